package pg

// CheckVersionNum exposes checkVersionNum to the external tests.
var CheckVersionNum = checkVersionNum

// GooseProvider exposes gooseProvider to the external tests.
var GooseProvider = gooseProvider
