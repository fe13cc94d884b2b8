// Command package builds the openwatch .deb and .rpm from packaging/nfpm.yaml with nfpm
// (used as a library): `make package` runs it on bin/openwatch.
//
//	go run ./scripts/package [--binary bin/openwatch] [--version V] [--arch amd64] [--formats deb,rpm] [--out dist]
//
// The version defaults to the one linked into the binary (the Makefile's VERSION, else the
// default in internal/buildinfo), the architecture to the binary's GOARCH.
package main

import (
	"debug/buildinfo"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"

	"github.com/goreleaser/nfpm/v2"
	_ "github.com/goreleaser/nfpm/v2/deb" // registers the deb packager
	_ "github.com/goreleaser/nfpm/v2/rpm" // registers the rpm packager
)

func main() {
	var o options
	flag.StringVar(&o.Config, "config", "packaging/nfpm.yaml", "nfpm `file` describing the packages")
	flag.StringVar(&o.Binary, "binary", "bin/openwatch", "the openwatch `binary` to package")
	flag.StringVar(&o.Version, "version", "", "package `version`; default: the binary's own")
	flag.StringVar(&o.Arch, "arch", "", "target `architecture` (amd64, arm64); default: the binary's")
	formats := flag.String("formats", "deb,rpm", "comma-separated package `formats`")
	flag.StringVar(&o.Out, "out", "dist", "output `directory`")
	flag.Parse()
	o.Formats = strings.Split(*formats, ",")
	paths, err := build(o)
	if err != nil {
		fmt.Fprintln(os.Stderr, "package:", err)
		os.Exit(1)
	}
	for _, p := range paths {
		fmt.Println(p)
	}
}

// options say what build makes.
type options struct {
	Config  string
	Binary  string
	Version string
	Arch    string
	Formats []string
	Out     string
}

// build writes one package per format into o.Out and returns their paths.
func build(o options) ([]string, error) {
	bin, err := filepath.Abs(o.Binary)
	if err != nil {
		return nil, err
	}
	bi, err := buildinfo.ReadFile(bin)
	if err != nil {
		return nil, fmt.Errorf("read build information of %s: %w", bin, err)
	}
	if o.Arch == "" {
		o.Arch = setting(bi, "GOARCH")
	}
	if o.Version == "" {
		if o.Version, err = binaryVersion(bin, bi); err != nil {
			return nil, err
		}
	}
	vars := map[string]string{"OPENWATCH_BINARY": bin, "OPENWATCH_VERSION": o.Version, "OPENWATCH_ARCH": o.Arch}
	cfg, err := nfpm.ParseFileWithEnvMapping(o.Config, func(k string) string { return vars[k] })
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", o.Config, err)
	}
	if err := os.MkdirAll(o.Out, 0o755); err != nil {
		return nil, err
	}
	base, err := filepath.Abs(filepath.Dir(o.Config))
	if err != nil {
		return nil, err
	}
	var paths []string
	for _, format := range o.Formats {
		info, err := cfg.Get(format)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", format, err)
		}
		info = nfpm.WithDefaults(info)
		resolve(info, base)
		if err := nfpm.PrepareForPackager(info, format); err != nil {
			return nil, fmt.Errorf("%s: %w", format, err)
		}
		pkg, err := nfpm.Get(format)
		if err != nil {
			return nil, err
		}
		path := filepath.Join(o.Out, pkg.ConventionalFileName(info))
		if err := write(path, func(f *os.File) error { info.Target = path; return pkg.Package(info, f) }); err != nil {
			return nil, fmt.Errorf("%s: %w", format, err)
		}
		paths = append(paths, path)
	}
	return paths, nil
}

// resolve makes the file and script paths of info relative to base, the directory of the
// nfpm file, as the nfpm command does relative to its working directory.
func resolve(info *nfpm.Info, base string) {
	abs := func(p string) string {
		if p == "" || filepath.IsAbs(p) {
			return p
		}
		return filepath.Join(base, p)
	}
	for _, c := range info.Contents {
		if c.Type != "dir" && c.Type != "symlink" {
			c.Source = abs(c.Source)
		}
	}
	s := &info.Scripts
	s.PreInstall, s.PostInstall, s.PreRemove, s.PostRemove = abs(s.PreInstall), abs(s.PostInstall), abs(s.PreRemove), abs(s.PostRemove)
}

// write creates path through a temporary file, so a failed build leaves no package behind.
func write(path string, fill func(*os.File) error) error {
	tmp, err := os.CreateTemp(filepath.Dir(path), ".package-*")
	if err != nil {
		return err
	}
	defer func() { _ = os.Remove(tmp.Name()) }()
	if err := fill(tmp); err != nil {
		_ = tmp.Close()
		return err
	}
	if err := tmp.Chmod(0o644); err != nil {
		_ = tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	return os.Rename(tmp.Name(), path)
}

func setting(bi *buildinfo.BuildInfo, key string) string {
	for _, s := range bi.Settings {
		if s.Key == key {
			return s.Value
		}
	}
	return ""
}

var versionFlag = regexp.MustCompile(`internal/buildinfo\.Version=([^\s'"]+)`)

// binaryVersion is the version linked into the binary with -X (the Makefile's VERSION), or
// else the one the binary reports, which it can only do on this machine's architecture.
func binaryVersion(bin string, bi *buildinfo.BuildInfo) (string, error) {
	if m := versionFlag.FindStringSubmatch(setting(bi, "-ldflags")); m != nil {
		return m[1], nil
	}
	out, err := exec.Command(bin, "version").Output()
	if err != nil {
		return "", fmt.Errorf("ask %s its version (or pass --version): %w", bin, err)
	}
	first, _, _ := strings.Cut(string(out), "\n")
	if v, ok := strings.CutPrefix(first, "openwatch "); ok && v != "" {
		return v, nil
	}
	return "", errors.New("the binary did not report a version: pass --version")
}
