package patchtest

import (
	"crypto/md5"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"testing"
)

// Suites of the test repository: Main holds every package's versions except the
// security update, which only Security holds.
const (
	SuiteMain     = "owtest"
	SuiteSecurity = "owtest-security"
)

// Package names the harness builds.
const (
	// App is a plain package: /usr/bin/owtest-app prints its version and
	// /etc/owtest-app.conf is a conffile that changes between 1.0 and 1.1.
	App = "owtest-app"
	// Broken's 1.1 post-install marks it unhealthy: BrokenStatus exits 1 after it,
	// and 0 after 1.0's post-install.
	Broken = "owtest-broken"
	// Sec is the security update: 1.0 in SuiteMain, 1.1 only in SuiteSecurity.
	Sec = "owtest-sec"
	// Tool depends on Lib; neither is installed at start.
	Tool = "owtest-tool"
	Lib  = "owtest-lib"
)

// BrokenStatus is Broken's health command.
const BrokenStatus = "/usr/bin/owtest-broken-status"

// OffRepoVersion is the version of App that is built as a .deb file (Repo.Deb) but
// published in no suite: installed with dpkg, it cannot be restored from the
// repository.
const OffRepoVersion = "0.9"

// Repo is a local apt repository in a directory readable by everyone, with a
// dists/ layout of two suites (SuiteMain and SuiteSecurity, component main), signed by
// nobody: targets list it as a [trusted=yes] file: source. One Repo serves any number
// of targets at once; it is removed at the end of the test that built it.
type Repo struct {
	// Dir is the repository's root, the file: URI's path.
	Dir string
	// Arch is the native dpkg architecture the indexes are published for.
	Arch string
	debs map[string]string // "name_version" → path of the .deb
}

// debSpec is one package version the harness builds.
type debSpec struct {
	name, version, suite string // suite "" = built but published nowhere
	depends              string
	files                map[string]string // path (no leading slash) → content; usr/bin files are executable
	conffiles            []string
	postinst             string
}

// Sources returns the sources.list lines that name the repository's suites.
func (r *Repo) Sources() string {
	var b strings.Builder
	for _, s := range []string{SuiteMain, SuiteSecurity} {
		fmt.Fprintf(&b, "deb [trusted=yes] file:%s %s main\n", r.Dir, s)
	}
	return b.String()
}

// Deb returns the path of a built .deb file, on this machine's file system (which
// targets share outside their overlays). It fails the test for an unknown one.
func (r *Repo) Deb(t testing.TB, name, version string) string {
	t.Helper()
	p, ok := r.debs[name+"_"+version]
	if !ok {
		t.Fatalf("patchtest: no .deb for %s %s", name, version)
	}
	return p
}

func specs() []debSpec {
	app := func(v string) debSpec {
		return debSpec{name: App, version: v, suite: SuiteMain,
			files: map[string]string{
				"usr/bin/owtest-app":  "#!/bin/sh\necho owtest-app " + v + "\n",
				"etc/owtest-app.conf": "# owtest-app " + v + " default configuration\nlevel=" + v + "\n",
			},
			conffiles: []string{"/etc/owtest-app.conf"}}
	}
	broken := func(v, state string) debSpec {
		return debSpec{name: Broken, version: v, suite: SuiteMain,
			files: map[string]string{
				"usr/bin/owtest-broken-status": "#!/bin/sh\n[ \"$(cat /var/lib/owtest-broken/state 2>/dev/null)\" = ok ] || { echo 'owtest-broken: unhealthy' >&2; exit 1; }\necho 'owtest-broken: healthy'\n",
			},
			postinst: "#!/bin/sh\nset -e\nmkdir -p /var/lib/owtest-broken\necho " + state + " > /var/lib/owtest-broken/state\n"}
	}
	plain := func(name, v, suite, depends string) debSpec {
		return debSpec{name: name, version: v, suite: suite, depends: depends,
			files: map[string]string{"usr/bin/" + name: "#!/bin/sh\necho " + name + " " + v + "\n"}}
	}
	offRepo := app(OffRepoVersion)
	offRepo.suite = ""
	return []debSpec{
		app("1.0"), app("1.1"), offRepo,
		broken("1.0", "ok"), broken("1.1", "broken"),
		plain(Sec, "1.0", SuiteMain, ""), plain(Sec, "1.1", SuiteSecurity, ""),
		plain(Tool, "1.0", SuiteMain, Lib), plain(Lib, "1.0", SuiteMain, ""),
	}
}

// NewRepo builds the packages with dpkg-deb and writes the repository's indexes; the
// repository is removed when the test ends.
func NewRepo(t testing.TB) *Repo {
	t.Helper()
	if _, err := exec.LookPath("dpkg-deb"); err != nil {
		t.Fatalf("patchtest: the patch tests need dpkg-deb and apt (Debian packages dpkg and apt; `make test-deps` checks them): %v", err)
	}
	arch, err := exec.Command("dpkg", "--print-architecture").Output()
	if err != nil {
		t.Fatalf("patchtest: dpkg --print-architecture: %v", err)
	}
	// Not t.TempDir: its parents are root-only, and apt reads file: sources as _apt.
	dir, err := os.MkdirTemp("", "owtest-repo-")
	if err != nil {
		t.Fatalf("patchtest: %v", err)
	}
	t.Cleanup(func() { _ = os.RemoveAll(dir) })
	r := &Repo{Dir: dir, Arch: strings.TrimSpace(string(arch)), debs: map[string]string{}}
	if err := r.build(); err != nil {
		t.Fatalf("patchtest: build repository: %v", err)
	}
	return r
}

func (r *Repo) build() error {
	if err := os.Chmod(r.Dir, 0o755); err != nil {
		return err
	}
	pool := filepath.Join(r.Dir, "pool")
	if err := os.MkdirAll(pool, 0o755); err != nil {
		return err
	}
	stanzas := map[string][]string{}
	for _, s := range specs() {
		path := filepath.Join(pool, s.name+"_"+s.version+"_all.deb")
		control, err := buildDeb(s, path)
		if err != nil {
			return fmt.Errorf("%s %s: %w", s.name, s.version, err)
		}
		r.debs[s.name+"_"+s.version] = path
		if s.suite == "" {
			continue
		}
		data, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		md := md5.Sum(data)
		sh := sha256.Sum256(data)
		stanza := control + fmt.Sprintf("Filename: pool/%s\nSize: %d\nMD5sum: %s\nSHA256: %s\n",
			filepath.Base(path), len(data), hex.EncodeToString(md[:]), hex.EncodeToString(sh[:]))
		stanzas[s.suite] = append(stanzas[s.suite], stanza)
	}
	for _, suite := range []string{SuiteMain, SuiteSecurity} {
		if err := r.writeSuite(suite, stanzas[suite]); err != nil {
			return fmt.Errorf("suite %s: %w", suite, err)
		}
	}
	return nil
}

// writeSuite writes dists/<suite>/main/binary-<arch>/Packages and the suite's Release.
func (r *Repo) writeSuite(suite string, stanzas []string) error {
	sort.Strings(stanzas)
	rel := "main/binary-" + r.Arch + "/Packages"
	dist := filepath.Join(r.Dir, "dists", suite)
	if err := os.MkdirAll(filepath.Join(dist, filepath.Dir(rel)), 0o755); err != nil {
		return err
	}
	packages := []byte(strings.Join(stanzas, "\n"))
	if err := os.WriteFile(filepath.Join(dist, rel), packages, 0o644); err != nil {
		return err
	}
	md := md5.Sum(packages)
	sh := sha256.Sum256(packages)
	release := fmt.Sprintf("Origin: OpenWatch test\nLabel: OpenWatch test\nSuite: %s\nCodename: %s\n"+
		"Date: Thu, 01 Jan 2026 00:00:00 UTC\nArchitectures: %s\nComponents: main\n"+
		"MD5Sum:\n %s %d %s\nSHA256:\n %s %d %s\n",
		suite, suite, r.Arch, hex.EncodeToString(md[:]), len(packages), rel,
		hex.EncodeToString(sh[:]), len(packages), rel)
	return os.WriteFile(filepath.Join(dist, "Release"), []byte(release), 0o644)
}

// buildDeb writes s as a .deb at out with dpkg-deb and returns its control stanza.
func buildDeb(s debSpec, out string) (string, error) {
	stage, err := os.MkdirTemp("", "owtest-deb-")
	if err != nil {
		return "", err
	}
	defer func() { _ = os.RemoveAll(stage) }()
	if err := os.Chmod(stage, 0o755); err != nil {
		return "", err
	}
	size := 0
	for p, content := range s.files {
		mode := os.FileMode(0o644)
		if strings.HasPrefix(p, "usr/bin/") {
			mode = 0o755
		}
		if err := writeFile(filepath.Join(stage, p), content, mode); err != nil {
			return "", err
		}
		size += len(content)
	}
	var control strings.Builder
	fmt.Fprintf(&control, "Package: %s\nVersion: %s\nArchitecture: all\nMaintainer: OpenWatch tests <tests@openwatch.invalid>\n", s.name, s.version)
	fmt.Fprintf(&control, "Installed-Size: %d\n", size/1024+1)
	if s.depends != "" {
		fmt.Fprintf(&control, "Depends: %s\n", s.depends)
	}
	fmt.Fprintf(&control, "Section: misc\nPriority: optional\nDescription: OpenWatch patch test package %s\n built by internal/change/patch/patchtest.\n", s.name)
	if err := writeFile(filepath.Join(stage, "DEBIAN", "control"), control.String(), 0o644); err != nil {
		return "", err
	}
	if len(s.conffiles) > 0 {
		if err := writeFile(filepath.Join(stage, "DEBIAN", "conffiles"), strings.Join(s.conffiles, "\n")+"\n", 0o644); err != nil {
			return "", err
		}
	}
	if s.postinst != "" {
		if err := writeFile(filepath.Join(stage, "DEBIAN", "postinst"), s.postinst, 0o755); err != nil {
			return "", err
		}
	}
	cmd := exec.Command("dpkg-deb", "--root-owner-group", "-Zgzip", "-z1", "--build", stage, out)
	if b, err := cmd.CombinedOutput(); err != nil {
		return "", fmt.Errorf("dpkg-deb: %v: %s", err, b)
	}
	if err := os.Chmod(out, 0o644); err != nil {
		return "", err
	}
	return control.String(), nil
}

func writeFile(path, content string, mode os.FileMode) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return err
	}
	if err := os.WriteFile(path, []byte(content), mode); err != nil {
		return err
	}
	return os.Chmod(path, mode)
}
