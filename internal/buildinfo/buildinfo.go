// Package buildinfo reports what this binary is. Version, Commit and BuildTime are set at
// link time by the Makefile (-X). The rule engine and corpus version is the rule package's
// (rule.EngineVersion).
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

// Info is the build metadata of the running binary.
type Info struct {
	Version   string
	Go        string
	Commit    string
	BuildTime string
}

// Get returns the build metadata, falling back to the VCS stamp Go records when the
// linker flags were not set.
func Get() Info {
	info := Info{Version: Version, Go: runtime.Version(), Commit: Commit, BuildTime: BuildTime}
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
