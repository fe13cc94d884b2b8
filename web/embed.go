// Package web holds the browser UI. The React app in this directory builds into dist/,
// which is embedded into the Go binary.
package web

import (
	"embed"
	"io/fs"
)

// dist is the output of `npm run build`. Only dist/.gitkeep is committed, so a plain
// `go build` without Node still compiles; Assets then reports that no build is present.
//
//go:embed all:dist
var dist embed.FS

// Assets returns the built app (the contents of dist/) and whether a real build is
// present (dist/index.html exists). Hashed bundles live under assets/ and may be cached
// forever; the Swagger UI files the API docs page loads live under swagger/.
func Assets() (fs.FS, bool) {
	sub, err := fs.Sub(dist, "dist")
	if err != nil {
		// Unreachable: "dist" is a valid, embedded directory name.
		return dist, false
	}
	info, err := fs.Stat(sub, "index.html")
	return sub, err == nil && !info.IsDir()
}
