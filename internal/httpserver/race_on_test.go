//go:build race

package httpserver_test

// raceOn: the race detector is on, and sync.Pool drops some of what it is given.
const raceOn = true
