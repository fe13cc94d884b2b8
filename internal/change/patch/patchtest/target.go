package patchtest

import (
	"strings"
	"sync"
	"testing"

	"github.com/openwatch/openwatch/internal/change"
	"github.com/openwatch/openwatch/internal/change/actiontest"
	"github.com/openwatch/openwatch/internal/sshx/sshtest"
)

// Overlays returns the directories a target sees through throwaway overlays:
// everything apt, dpkg and the test packages' maintainer scripts write (configuration,
// the package tree, dpkg's and apt's state, caches, logs, /run for reboot-required).
func Overlays() []string {
	return []string{"/etc", "/usr", "/var/lib", "/var/cache", "/var/log", "/run"}
}

// DefaultInstall returns what a target has installed at start when Options.Install is
// nil: version 1.0 of App, Broken and Sec.
func DefaultInstall() []string {
	return []string{App + "=1.0", Broken + "=1.0", Sec + "=1.0"}
}

// Options configures StartTarget.
type Options struct {
	// Addr is the loopback IP the target's sshd listens on (default 127.0.0.1).
	Addr string
	// Repo is the repository the target installs from; several targets share one.
	// Nil builds one for this target.
	Repo *Repo
	// Install lists "name=version" to install at start, with dpkg -i in one call
	// (so a package's dependencies must be listed too); nil means DefaultInstall(), an
	// empty non-nil slice installs nothing.
	Install []string
}

// Target is a test host for patching: a real sshd in its own mount namespace over
// overlays of Overlays(), whose apt sources are only the test repository. Its methods run
// scripts as root; they are not safe for concurrent use on one target.
type Target struct {
	actiontest.Target
	Server *sshtest.Server
	Repo   *Repo
}

// StartTarget starts a target, points apt at only opts.Repo (inside the overlay, over
// SSH), checks that apt knows no other source, and installs opts.Install. It fails the
// test on any error.
func StartTarget(t testing.TB, opts Options) *Target {
	t.Helper()
	if opts.Repo == nil {
		opts.Repo = NewRepo(t)
	}
	install := opts.Install
	if install == nil {
		install = DefaultInstall()
	}
	srv := sshtest.Start(t, sshtest.Options{Addr: opts.Addr, Overlay: Overlays()})
	tg := &Target{Target: actiontest.Target{T: t, Client: srv.Dial(t, sshtest.UserRoot)}, Server: srv, Repo: opts.Repo}
	tg.MustRun(`set -e
rm -f /etc/apt/sources.list
rm -rf /etc/apt/sources.list.d
mkdir -p /etc/apt/sources.list.d
printf '%s' ` + change.Quote(opts.Repo.Sources()) + ` > /etc/apt/sources.list.d/owtest.list
rm -rf /var/lib/apt/lists
mkdir -p /var/lib/apt/lists/partial
apt-get -q -o APT::Update::Error-Mode=any update >/dev/null`)
	tg.checkSources()
	if len(install) > 0 {
		// dpkg -i of the repository's files: half the time of apt-get install.
		debs := make([]string, len(install))
		for i, nv := range install {
			name, version, ok := strings.Cut(nv, "=")
			if !ok {
				t.Fatalf("patchtest: install %q: want name=version", nv)
			}
			debs[i] = change.Quote(opts.Repo.Deb(t, name, version))
		}
		tg.MustRun("DEBIAN_FRONTEND=noninteractive dpkg -i " + strings.Join(debs, " ") + " >/dev/null")
	}
	return tg
}

// checkSources fails the test unless apt's package files are the test repository's
// suites and dpkg's status, nothing else.
func (tg *Target) checkSources() {
	tg.T.Helper()
	out := tg.MustRun("apt-cache policy")
	seen := map[string]bool{}
	for _, line := range strings.Split(out, "\n") {
		f := strings.Fields(line)
		if len(f) < 2 || !isPriority(f[0]) {
			continue
		}
		switch {
		case f[1] == "/var/lib/dpkg/status":
		case f[1] == "file:"+tg.Repo.Dir && len(f) > 2:
			seen[strings.SplitN(f[2], "/", 2)[0]] = true
		default:
			tg.T.Fatalf("patchtest: apt on the target still knows a source other than the test repository: %q\n%s", line, out)
		}
	}
	if !seen[SuiteMain] || !seen[SuiteSecurity] {
		tg.T.Fatalf("patchtest: apt on the target does not list the test repository's suites:\n%s", out)
	}
}

func isPriority(s string) bool {
	s = strings.TrimPrefix(s, "-")
	if s == "" {
		return false
	}
	for _, r := range s {
		if r < '0' || r > '9' {
			return false
		}
	}
	return true
}

// Host describes the target to a planner.
func (tg *Target) Host() change.Host {
	return change.Host{Name: tg.Server.Addr, Family: "debian", PackageManager: "apt"}
}

// Version returns the installed version of pkg, or "" when it is not installed.
func (tg *Target) Version(pkg string) string {
	tg.T.Helper()
	out := tg.MustRun("dpkg-query -W -f '${db:Status-Abbrev} ${Version}' " + change.Quote(pkg) + " 2>/dev/null || true")
	f := strings.Fields(out)
	if len(f) == 2 && len(f[0]) >= 2 && f[0][1] == 'i' {
		return f[1]
	}
	return ""
}

// Held reports whether pkg is on hold.
func (tg *Target) Held(pkg string) bool {
	tg.T.Helper()
	out := tg.MustRun("apt-mark showhold")
	for _, l := range strings.Fields(out) {
		if l == pkg {
			return true
		}
	}
	return false
}

// Healthy runs BrokenStatus, the health check that Broken 1.1 breaks.
func (tg *Target) Healthy() bool {
	tg.T.Helper()
	return tg.Run(BrokenStatus).OK()
}

// StartTargets starts n targets at once (at most parallel at a time; 0 means 4) that
// share opts.Repo, built here when nil, and returns them in order. It fails the test
// when any target fails to start.
func StartTargets(t testing.TB, n, parallel int, opts Options) []*Target {
	t.Helper()
	if opts.Repo == nil {
		opts.Repo = NewRepo(t)
	}
	if parallel <= 0 {
		parallel = 4
	}
	targets := make([]*Target, n)
	sem := make(chan struct{}, parallel)
	var wg sync.WaitGroup
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			sem <- struct{}{}
			defer func() { <-sem }()
			// A failure inside marks t failed and ends only this goroutine (Goexit).
			targets[i] = StartTarget(t, opts)
		}()
	}
	wg.Wait()
	if t.Failed() {
		t.FailNow()
	}
	return targets
}
