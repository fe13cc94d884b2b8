package web

import (
	"io/fs"
	"regexp"
	"testing"
)

// TestAssets checks what the server relies on: without a build Assets reports false and
// serves nothing; with one, every file index.html references is embedded, bundles are
// content-hashed under assets/, and the Swagger UI files the /api/docs page loads exist.
func TestAssets(t *testing.T) {
	fsys, built := Assets()
	if _, err := fs.Stat(fsys, ".gitkeep"); err != nil {
		t.Fatalf(".gitkeep missing from the embedded dist (a web build deleted it?): %v", err)
	}
	if !built {
		if _, err := fs.Stat(fsys, "index.html"); err == nil {
			t.Fatal("Assets reported no build, but index.html is embedded")
		}
		t.Skip("no web build embedded (run `cd web && npm ci && npm run build`)")
	}

	index, err := fs.ReadFile(fsys, "index.html")
	if err != nil {
		t.Fatal(err)
	}
	refs := regexp.MustCompile(`(?:src|href)="/([^"]+)"`).FindAllStringSubmatch(string(index), -1)
	hashed := regexp.MustCompile(`^assets/[A-Za-z0-9_.-]+-[A-Za-z0-9_-]{8,}\.(?:js|css)$`)
	var bundles int
	for _, m := range refs {
		name := m[1]
		if _, err := fs.Stat(fsys, name); err != nil {
			t.Errorf("index.html references /%s, which is not embedded", name)
		}
		if hashed.MatchString(name) {
			bundles++
		}
	}
	if bundles == 0 {
		t.Errorf("index.html references no content-hashed bundle under /assets/:\n%s", index)
	}

	for _, name := range []string{"swagger/swagger-ui-bundle.js", "swagger/swagger-ui.css"} {
		if info, err := fs.Stat(fsys, name); err != nil || info.Size() == 0 {
			t.Errorf("%s missing or empty (err=%v)", name, err)
		}
	}
}
