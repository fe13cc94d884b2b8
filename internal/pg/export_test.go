package pg

// CheckVersionNum exposes checkVersionNum to the external tests.
var CheckVersionNum = checkVersionNum
