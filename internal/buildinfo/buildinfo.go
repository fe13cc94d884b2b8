// Package buildinfo reports what this binary is. Version, Commit and BuildTime are set at
// link time by the Makefile (-X); RuleEngine names the compliance rule engine and corpus
// the binary carries.
package buildinfo

import (
	"runtime"
	"runtime/debug"
)

// Set with -ldflags "-X github.com/openwatch/openwatch/internal/buildinfo.Version=...".
var (
	Version   = "0.3.0-dev"
	Commit    = ""
	BuildTime = ""
)

// RuleEngine is the version of the built-in compliance rule engine and rule corpus. No
// rules ship yet, so it is the engine's development version.
const RuleEngine = "0.0.0-dev"

// Info is the build metadata of the running binary.
type Info struct {
	Version    string
	RuleEngine string
	Go         string
	Commit     string
	BuildTime  string
}

// Get returns the build metadata, falling back to the VCS stamp Go records when the
// linker flags were not set.
func Get() Info {
	info := Info{Version: Version, RuleEngine: RuleEngine, Go: runtime.Version(), Commit: Commit, BuildTime: BuildTime}
	if bi, ok := debug.ReadBuildInfo(); ok {
		for _, s := range bi.Settings {
			switch {
			case s.Key == "vcs.revision" && info.Commit == "":
				info.Commit = s.Value
			case s.Key == "vcs.time" && info.BuildTime == "":
				info.BuildTime = s.Value
			}
		}
	}
	if info.Commit == "" {
		info.Commit = "unknown"
	}
	if info.BuildTime == "" {
		info.BuildTime = "unknown"
	}
	return info
}
