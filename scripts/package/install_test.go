package main

import (
	"bufio"
	"bytes"
	"context"
	"crypto/sha256"
	"crypto/tls"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"golang.org/x/sys/unix"
)

// mdweEnv makes the test binary a launcher: it sets PR_SET_MDWE (what the unit's
// MemoryDenyWriteExecute= asks of systemd: no memory may gain execute permission once
// writable), which every later exec and fork inherits, then execs its arguments.
const mdweEnv = "OPENWATCH_PACKAGE_TEST_MDWE"

// prMDWERefuseExecGain is PR_MDWE_REFUSE_EXEC_GAIN, the flag of PR_SET_MDWE.
const prMDWERefuseExecGain = 1

func TestMain(m *testing.M) {
	if os.Getenv(mdweEnv) == "1" {
		launch()
	}
	// Orphans of the processes the test starts (a PostgreSQL whose serve died) become the
	// test's children, so the clean-up finds and stops them.
	if err := unix.Prctl(unix.PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0); err != nil {
		fmt.Fprintln(os.Stderr, "prctl(PR_SET_CHILD_SUBREAPER):", err)
		os.Exit(1)
	}
	os.Exit(m.Run())
}

func launch() {
	if err := unix.Prctl(unix.PR_SET_MDWE, prMDWERefuseExecGain, 0, 0, 0); err != nil {
		fmt.Fprintln(os.Stderr, "prctl(PR_SET_MDWE):", err)
		os.Exit(125)
	}
	path, err := exec.LookPath(os.Args[1])
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(125)
	}
	var env []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, mdweEnv+"=") {
			env = append(env, kv)
		}
	}
	err = syscall.Exec(path, os.Args[1:], env)
	fmt.Fprintln(os.Stderr, "exec:", err)
	os.Exit(125)
}

// TestInstallUpgradePurge builds two versions of the .deb (and the .rpm), then, inside a
// mount namespace of its own whose /usr, /etc, /var and /root are throwaway overlays (and
// /run and /dev/shm fresh tmpfs mounts), installs the first with dpkg, starts the server as
// the unit would, creates data, upgrades to the second, starts it again and checks that
// data, keys and the edited conffiles survived, and finally purges it. This machine's own
// files never change: every write lands in the overlays' upper directories, removed at the
// end.
func TestInstallUpgradePurge(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Fatal("this test must run as root: it installs the package with dpkg in a mount namespace of its own")
	}
	for _, tool := range []string{"unshare", "nsenter", "setpriv", "dpkg", "dpkg-deb", "rpm", "sha256sum"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Fatalf("%s is missing: run scripts/install-deps.sh", tool)
		}
	}
	root, err := filepath.Abs("../..")
	require.NoError(t, err)
	work, err := os.MkdirTemp("", "owpkg-")
	require.NoError(t, err)
	tr := &transcript{work: work}
	t.Cleanup(func() {
		t.Logf("install and upgrade transcript:\n%s", tr.String())
		stopOrphans()
		_ = os.RemoveAll(work)
	})

	// The binary, once; two package versions of it.
	bin := filepath.Join(work, "openwatch")
	tr.step("go build -trimpath -o openwatch ./cmd/openwatch")
	gobuild := exec.Command("go", "build", "-trimpath", "-o", bin, "./cmd/openwatch")
	gobuild.Dir, gobuild.Env = root, append(os.Environ(), "CGO_ENABLED=0")
	out, err := gobuild.CombinedOutput()
	require.NoError(t, err, "%s", out)
	pkgs := map[string][]string{}
	// Packaged by the program `make package` runs (built without the race detector, which
	// would make compressing the binary slow).
	packager := filepath.Join(work, "package")
	gobuild = exec.Command("go", "build", "-o", packager, "./scripts/package")
	gobuild.Dir = root
	out, err = gobuild.CombinedOutput()
	require.NoError(t, err, "%s", out)
	for v, formats := range map[string]string{"1.0.0": "deb", "1.0.1": "deb,rpm"} {
		tr.step("go run ./scripts/package --binary openwatch --version %s --formats %s --out %s", v, formats, v)
		cmd := exec.Command(packager, "--config", filepath.Join(root, "packaging", "nfpm.yaml"), "--binary", bin,
			"--version", v, "--formats", formats, "--out", filepath.Join(work, v))
		var stderr bytes.Buffer
		cmd.Stderr = &stderr
		out, err := cmd.Output()
		require.NoError(t, err, "%s", stderr.String())
		tr.out(string(out))
		pkgs[v] = strings.Fields(string(out))
	}
	deb1, deb2, rpm2 := pkgs["1.0.0"][0], pkgs["1.0.1"][0], pkgs["1.0.1"][1]
	require.True(t, strings.HasSuffix(deb1, ".deb") && strings.HasSuffix(rpm2, ".rpm"), "%v", pkgs)

	ns := startNamespace(t, work, tr)

	// The packages' metadata, read with the distributions' own tools.
	info := ns.run(t, "dpkg-deb --field "+deb1+" Package Version Architecture Depends && dpkg-deb --info "+deb1+" conffiles")
	require.Contains(t, info, "Version: 1.0.0-1")
	require.Contains(t, info, "postgresql (>= 13)")
	require.Contains(t, info, "/etc/openwatch/openwatch.toml\n")
	require.Contains(t, info, "/etc/default/openwatch\n")
	rpmInfo := ns.run(t, "rpm -qp --qf '%{NAME} %{VERSION}-%{RELEASE} %{ARCH}\\n' "+rpm2+
		" && rpm -qp --requires "+rpm2+" | grep -v '^rpmlib'"+
		" && rpm -qp --qf '[%{FILEMODES:perms} %{FILEUSERNAME}:%{FILEGROUPNAME} %{FILEFLAGS:fflags} %{FILENAMES}\\n]' "+rpm2+
		" && rpm -qp --scripts "+rpm2+" | grep -E '^(pre|post)(install|uninstall) scriptlet'")
	for _, want := range []string{
		"openwatch 1.0.1-1 x86_64", "postgresql-server >= 13", "shadow-utils",
		"-rwxr-xr-x root:root  /usr/bin/openwatch",
		"-rw-r--r-- root:root cn /etc/openwatch/openwatch.toml",
		"-rw-r--r-- root:root cn /etc/default/openwatch",
		"-rw-r--r-- root:root  /usr/lib/systemd/system/openwatch.service",
		"-rw-r--r-- root:root  /usr/lib/systemd/system/openwatch-worker.service",
		"preinstall scriptlet", "postinstall scriptlet", "preuninstall scriptlet", "postuninstall scriptlet",
	} {
		require.Contains(t, rpmInfo, want)
	}

	// Install the first version.
	out1 := ns.run(t, "dpkg -i "+deb1)
	require.Contains(t, out1, "openwatch: installed; start it with")
	user := ns.run(t, "getent passwd openwatch && getent group openwatch")
	require.Regexp(t, `(?m)^openwatch:x:\d+:\d+:OpenWatch server:/var/lib/openwatch:/usr/sbin/nologin$`, user)
	modes := ns.run(t, "stat -c '%a %U:%G %n' /usr/bin/openwatch /usr/lib/systemd/system/openwatch.service "+
		"/usr/lib/systemd/system/openwatch-worker.service /etc/openwatch /etc/openwatch/openwatch.toml /etc/default/openwatch "+
		"/var/lib/openwatch /var/lib/openwatch/backups /var/log/openwatch")
	for _, want := range []string{
		"755 root:root /usr/bin/openwatch\n",
		"644 root:root /usr/lib/systemd/system/openwatch.service\n",
		"644 root:root /usr/lib/systemd/system/openwatch-worker.service\n",
		"755 root:root /etc/openwatch\n",
		"644 root:root /etc/openwatch/openwatch.toml\n",
		"644 root:root /etc/default/openwatch\n",
		"750 openwatch:openwatch /var/lib/openwatch\n",
		"750 openwatch:openwatch /var/lib/openwatch/backups\n",
		"750 openwatch:openwatch /var/log/openwatch\n",
	} {
		require.Contains(t, modes, want)
	}
	status := ns.run(t, "dpkg-query -W -f='${Version} ${Status}\\n${Conffiles}\\n' openwatch")
	require.Contains(t, status, "1.0.0-1 install ok installed")
	require.Regexp(t, `/etc/openwatch/openwatch.toml [0-9a-f]{32}`, status)
	require.Regexp(t, `/etc/default/openwatch [0-9a-f]{32}`, status)

	// The operator edits the configuration: a loopback port of its own, SSH kept on this
	// machine.
	port := freePort(t)
	ns.run(t, fmt.Sprintf(`sed -i 's|^listen = .*|listen = "127.0.0.1:%d"|' /etc/openwatch/openwatch.toml && `+
		`printf '\n# edited by the operator\n[ssh]\nallowed_networks = "127.0.0.0/8"\n' >>/etc/openwatch/openwatch.toml && `+
		`grep -n -e '^listen' -e 'edited' /etc/openwatch/openwatch.toml`, port))

	// First start: the server provisions its keys, TLS pair, database and first admin.
	srv := ns.serve(t, work, port)
	secret := ns.run(t, "stat -c '%a %U %n' /var/lib/openwatch/initial-admin-password /var/lib/openwatch/keys/secrets.key "+
		"/var/lib/openwatch/keys/jwt-signing.jwk /var/lib/openwatch/tls/ca.key /var/lib/openwatch/tls/server.key")
	for _, f := range []string{"initial-admin-password", "keys/secrets.key", "keys/jwt-signing.jwk", "tls/ca.key", "tls/server.key"} {
		require.Contains(t, secret, "600 openwatch /var/lib/openwatch/"+f+"\n")
	}
	pw := strings.TrimSpace(readNS(t, ns, "/var/lib/openwatch/initial-admin-password"))
	keys := ns.run(t, "cd /var/lib/openwatch && sha256sum keys/secrets.key keys/jwt-signing.jwk tls/ca.crt tls/ca.key tls/server.crt tls/server.key")
	fp1 := srv.fingerprint
	tr.out(fmt.Sprintf("served certificate sha256 %s\n", fp1))
	// MemoryDenyWriteExecute reaches the managed PostgreSQL: a query its JIT compiles fails,
	// unless the session has JIT off, as the unit's PGOPTIONS makes every OpenWatch session.
	const psql = `runuser -u openwatch -- env %s psql -X -q -At -h /var/lib/openwatch/pg/run -d openwatch -c "SET jit_above_cost = 0" -c "SHOW jit" -c "SELECT sum(i) FROM generate_series(1, 100000) i"`
	jit := ns.run(t, fmt.Sprintf(psql, "PGOPTIONS=")+" 2>&1 || true")
	require.Contains(t, jit, "error during JITing: Permission denied")
	require.Contains(t, srv.env, "PGOPTIONS=-c jit=off")
	noJIT := ns.run(t, fmt.Sprintf(psql, "'PGOPTIONS=-c jit=off'"))
	require.Equal(t, "off\n5000050000\n", noJIT)

	c := srv.login(t, tr, "admin", pw)
	host := c.call(t, tr, "POST", "/api/v1/hosts", `{"hostname":"pkg-upgrade-1","ip_address":"127.0.0.1","port":1}`, 201)
	hostID, _ := host["id"].(string)
	require.NotEmpty(t, hostID)
	v1 := c.call(t, tr, "POST", "/api/v1/audit/integrity:verify", "", 200)
	require.Equal(t, true, v1["ok"])
	checked1, _ := v1["checked"].(float64)
	require.Positive(t, checked1)
	srv.stop(t, tr)
	ns.run(t, "test ! -e /var/lib/openwatch/pg/data/postmaster.pid && echo 'managed PostgreSQL stopped cleanly'")

	// Upgrade, with the pre-upgrade backup asked for in /etc/default/openwatch.
	ns.run(t, `sed -i 's/^BACKUP_BEFORE_UPGRADE=.*/BACKUP_BEFORE_UPGRADE=yes/' /etc/default/openwatch && grep ^BACKUP /etc/default/openwatch`)
	out2 := ns.run(t, "dpkg -i "+deb2)
	require.Contains(t, out2, "openwatch: applying database migrations")
	require.Contains(t, out2, "migrations applied")
	if strings.Contains(out2, "backing up before the upgrade") {
		require.Regexp(t, `-rw------- 1 openwatch openwatch \d+ .* openwatch-backup-\d{8}T\d{6}Z\.tar`,
			ns.run(t, "ls -l /var/lib/openwatch/backups/"), "the backup left no archive")
	} else {
		require.Contains(t, out2, "the installed version has no backup command: upgrading without a pre-upgrade backup")
	}
	status = ns.run(t, "dpkg-query -W -f='${Version} ${Status}\\n' openwatch")
	require.Contains(t, status, "1.0.1-1 install ok installed")
	conf := ns.run(t, "grep -n -e '^listen' -e 'edited by the operator' /etc/openwatch/openwatch.toml && grep ^BACKUP /etc/default/openwatch")
	require.Contains(t, conf, fmt.Sprintf(`listen = "127.0.0.1:%d"`, port))
	require.Contains(t, conf, "# edited by the operator")
	require.Contains(t, conf, "BACKUP_BEFORE_UPGRADE=yes")
	require.Equal(t, keys, ns.run(t, "cd /var/lib/openwatch && sha256sum keys/secrets.key keys/jwt-signing.jwk tls/ca.crt tls/ca.key tls/server.crt tls/server.key"),
		"the upgrade changed a key or the TLS pair")

	// Second start: same certificate, same admin, the host and an intact audit chain.
	srv = ns.serve(t, work, port)
	tr.out(fmt.Sprintf("served certificate sha256 %s\n", srv.fingerprint))
	require.Equal(t, fp1, srv.fingerprint, "the upgrade changed the served certificate")
	c = srv.login(t, tr, "admin", pw)
	got := c.call(t, tr, "GET", "/api/v1/hosts/"+hostID, "", 200)
	h, _ := got["host"].(map[string]any)
	require.Equal(t, "pkg-upgrade-1", h["hostname"])
	v2 := c.call(t, tr, "POST", "/api/v1/audit/integrity:verify", "", 200)
	require.Equal(t, true, v2["ok"])
	checked2, _ := v2["checked"].(float64)
	require.Greater(t, checked2, checked1)
	srv.stop(t, tr)

	// Purge: the package's files and conffiles go; the data and the user stay.
	out3 := ns.run(t, "dpkg --purge openwatch")
	require.Contains(t, out3, "kept /var/lib/openwatch")
	left := ns.run(t, "for f in /usr/bin/openwatch /etc/openwatch/openwatch.toml /etc/default/openwatch /usr/lib/systemd/system/openwatch.service "+
		"/var/log/openwatch /var/lib/openwatch/keys/secrets.key; do if [ -e $f ]; then echo \"present $f\"; else echo \"absent $f\"; fi; done; getent passwd openwatch | cut -d: -f1")
	for _, want := range []string{"absent /usr/bin/openwatch", "absent /etc/openwatch/openwatch.toml", "absent /etc/default/openwatch",
		"absent /usr/lib/systemd/system/openwatch.service", "absent /var/log/openwatch", "present /var/lib/openwatch/keys/secrets.key", "openwatch\n"} {
		require.Contains(t, left, want)
	}
}

// transcript collects the commands the test runs and what they print, for the log.
type transcript struct {
	b    strings.Builder
	work string // shown as $WORK
}

func (tr *transcript) step(format string, args ...any) {
	tr.b.WriteString(strings.ReplaceAll(fmt.Sprintf("$ "+format+"\n", args...), tr.work, "$WORK"))
}

func (tr *transcript) out(s string) {
	s = strings.ReplaceAll(s, tr.work, "$WORK")
	for _, l := range strings.SplitAfter(s, "\n") {
		if l != "" {
			tr.b.WriteString("  " + l)
		}
	}
	if s != "" && !strings.HasSuffix(s, "\n") {
		tr.b.WriteString("\n")
	}
}

func (tr *transcript) String() string { return tr.b.String() }

// namespace is a process holding a mount namespace whose /usr, /etc, /var and /root are overlays
// with throwaway upper directories and whose /run is an empty tmpfs (no systemd there).
type namespace struct {
	pid int
	tr  *transcript
}

func startNamespace(t *testing.T, work string, tr *transcript) *namespace {
	t.Helper()
	var script strings.Builder
	script.WriteString("set -e\n")
	// /root too: tools run as root keep state in its home (rpm keeps its database in ~/.rpmdb
	// on Debian).
	for _, dir := range []string{"/usr", "/etc", "/var", "/root"} {
		base := filepath.Join(work, "overlay", filepath.Base(dir))
		upper, wd := filepath.Join(base, "upper"), filepath.Join(base, "work")
		require.NoError(t, os.MkdirAll(upper, 0o755))
		require.NoError(t, os.MkdirAll(wd, 0o755))
		fmt.Fprintf(&script, "mount -t overlay overlay -o 'lowerdir=%s,upperdir=%s,workdir=%s' '%s'\n", dir, upper, wd, dir)
	}
	// Fresh tmpfs mounts where the server and PostgreSQL keep run-time files (POSIX shared
	// memory segments in /dev/shm).
	script.WriteString("mount -t tmpfs -o mode=0755,size=64m owpkg-run /run\nmount -t tmpfs -o mode=1777,size=512m owpkg-shm /dev/shm\necho ready\nexec sleep 86400\n")
	tr.step("unshare --mount --propagation private  # overlays over /usr /etc /var /root, tmpfs on /run and /dev/shm")
	cmd := exec.Command("unshare", "--mount", "--propagation", "private", "--", "/bin/sh", "-c", script.String())
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	stdout, err := cmd.StdoutPipe()
	require.NoError(t, err)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	require.NoError(t, cmd.Start())
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
	})
	line, err := bufio.NewReader(stdout).ReadString('\n')
	if err != nil {
		_ = cmd.Process.Kill()
		_ = cmd.Wait() // after which stderr is complete
		t.Fatalf("the namespace did not start: %v: %s", err, stderr.String())
	}
	require.Equal(t, "ready\n", line)
	return &namespace{pid: cmd.Process.Pid, tr: tr}
}

// run runs a shell script as root inside the namespace and returns its output (stdout
// and stderr), failing the test when it fails.
func (ns *namespace) run(t *testing.T, script string) string {
	t.Helper()
	ns.tr.step("%s", script)
	cmd := exec.Command("nsenter", "--target", strconv.Itoa(ns.pid), "--mount", "--", "/bin/sh", "-c", script)
	cmd.Env = []string{"PATH=/usr/sbin:/usr/bin:/sbin:/bin", "LANG=C", "DEBIAN_FRONTEND=noninteractive", "HOME=/root"}
	cmd.Dir = "/"
	out, err := cmd.CombinedOutput()
	ns.tr.out(string(out))
	require.NoError(t, err, "in the namespace: %s\n%s", script, out)
	return string(out)
}

// unit is what the test takes from the installed systemd unit to start the server the
// way systemd would.
type unit struct {
	execStart []string
	env       []string
	user      string
	noNewPriv bool
	noCaps    bool
	privTmp   bool
	mdwe      bool
	umask     string
}

func parseUnit(t *testing.T, text string) unit {
	t.Helper()
	var u unit
	for _, line := range strings.Split(text, "\n") {
		k, v, ok := strings.Cut(strings.TrimSpace(line), "=")
		if !ok || strings.HasPrefix(k, "#") {
			continue
		}
		switch k {
		case "ExecStart":
			u.execStart = strings.Fields(strings.TrimLeft(v, "-@+!:"))
		case "Environment":
			u.env = append(u.env, strings.Trim(v, `"`))
		case "User":
			u.user = v
		case "NoNewPrivileges":
			u.noNewPriv = v == "yes"
		case "CapabilityBoundingSet":
			u.noCaps = v == ""
		case "PrivateTmp":
			u.privTmp = v == "yes"
		case "MemoryDenyWriteExecute":
			u.mdwe = v == "yes"
		case "UMask":
			u.umask = v
		}
	}
	require.NotEmpty(t, u.execStart, "the unit has no ExecStart")
	require.NotEmpty(t, u.user, "the unit has no User")
	return u
}

// server is a running `openwatch serve` started from the installed unit.
type server struct {
	cmd         *exec.Cmd
	done        chan error
	base        string
	client      *http.Client
	fingerprint string
	tr          *transcript
	log         string
	env         []string // the unit's Environment=
}

// serve starts the unit's ExecStart as its User, with what of its sandbox can be had
// without systemd: no new privileges, an empty capability bounding set, a private /tmp,
// its umask and its memory-deny-write-execute; then waits for /health.
func (ns *namespace) serve(t *testing.T, work string, port int) *server {
	t.Helper()
	u := parseUnit(t, ns.run(t, "grep -E '^(ExecStart|Environment|User|NoNewPrivileges|CapabilityBoundingSet|PrivateTmp|MemoryDenyWriteExecute|UMask)=' /usr/lib/systemd/system/openwatch.service"))
	setpriv := []string{"setpriv", "--reuid=" + u.user, "--regid=" + u.user, "--init-groups"}
	if u.noNewPriv {
		setpriv = append(setpriv, "--no-new-privs")
	}
	if u.noCaps {
		setpriv = append(setpriv, "--bounding-set=-all", "--inh-caps=-all")
	}
	pre := "set -e; cd /"
	if u.privTmp {
		pre += "; mount -t tmpfs -o mode=1777 owpkg-tmp /tmp; mount -t tmpfs -o mode=1777 owpkg-vartmp /var/tmp"
	}
	if u.umask != "" {
		pre += "; umask " + u.umask
	}
	args := []string{"nsenter", "--target", strconv.Itoa(ns.pid), "--mount", "--",
		"unshare", "--mount", "--propagation", "private", "--", "/bin/sh", "-c", pre + `; exec "$@"`, "sh"}
	args = append(args, setpriv...)
	args = append(args, "--", "env", "-i", "PATH=/usr/sbin:/usr/bin:/sbin:/bin", "HOME=/var/lib/openwatch", "LANG=C.UTF-8")
	args = append(args, u.env...)
	args = append(args, u.execStart...)
	if u.mdwe {
		self, err := os.Executable()
		require.NoError(t, err)
		args = append([]string{self}, args...)
	}
	ns.tr.step("%s; %s -- env -i ... %s %s  # from openwatch.service (MemoryDenyWriteExecute: %v)",
		pre, strings.Join(setpriv, " "), strings.Join(u.env, " "), strings.Join(u.execStart, " "), u.mdwe)
	logPath := filepath.Join(work, fmt.Sprintf("serve-%d.log", time.Now().UnixNano()))
	logf, err := os.Create(logPath)
	require.NoError(t, err)
	defer func() { _ = logf.Close() }()
	cmd := exec.Command(args[0], args[1:]...)
	cmd.Stdout, cmd.Stderr = logf, logf
	cmd.Env = []string{"PATH=/usr/sbin:/usr/bin:/sbin:/bin"}
	if u.mdwe {
		cmd.Env = append(cmd.Env, mdweEnv+"=1")
	}
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	require.NoError(t, cmd.Start())
	s := &server{cmd: cmd, done: make(chan error, 1), base: fmt.Sprintf("https://127.0.0.1:%d", port), tr: ns.tr, log: logPath, env: u.env,
		client: &http.Client{Timeout: 30 * time.Second, Transport: &http.Transport{
			// The test reads the served certificate's fingerprint instead of trusting it.
			TLSClientConfig: &tls.Config{InsecureSkipVerify: true}, //nolint:gosec // the fingerprint is compared instead
		}}}
	go func() { s.done <- cmd.Wait() }()
	t.Cleanup(func() {
		_ = cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-s.done:
		case <-time.After(60 * time.Second):
			_ = cmd.Process.Kill()
		}
	})

	deadline := time.Now().Add(3 * time.Minute)
	for {
		select {
		case err := <-s.done:
			s.done <- err
			t.Fatalf("serve exited before answering /health (%v):\n%s", err, readFile(logPath))
		default:
		}
		resp, err := s.client.Get(s.base + "/api/v1/health")
		if err == nil {
			body, _ := io.ReadAll(resp.Body)
			_ = resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				sum := sha256.Sum256(resp.TLS.PeerCertificates[0].Raw)
				s.fingerprint = hex.EncodeToString(sum[:])
				ns.tr.step("curl -k %s/api/v1/health", s.base)
				ns.tr.out(string(body))
				break
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("serve did not answer /health within 3 minutes:\n%s", readFile(logPath))
		}
		time.Sleep(200 * time.Millisecond)
	}

	// The sandbox the server and its PostgreSQL run in, as the kernel reports it.
	procs := ns.run(t, fmt.Sprintf(`for p in %d $(cat /proc/%d/task/*/children); do `+
		`printf '%%s %%s ' $p "$(cat /proc/$p/comm)"; grep -E '^(Uid|NoNewPrivs|CapBnd|CapEff):' /proc/$p/status | tr -s '\t\n' '  '; echo; done`,
		cmd.Process.Pid, cmd.Process.Pid))
	require.Regexp(t, `(?m)^\d+ openwatch Uid: (\d+) \d+ \d+ \d+ CapEff: 0{16} CapBnd: 0{16} NoNewPrivs: 1 $`, procs)
	require.Regexp(t, `(?m)^\d+ postgres Uid: (\d+) \d+ \d+ \d+ CapEff: 0{16} CapBnd: 0{16} NoNewPrivs: 1 $`, procs)
	return s
}

// stop sends SIGTERM, as systemctl stop does (KillMode=mixed), and waits for a clean exit.
func (s *server) stop(t *testing.T, tr *transcript) {
	t.Helper()
	tr.step("kill -TERM %d  # systemctl stop openwatch", s.cmd.Process.Pid)
	require.NoError(t, s.cmd.Process.Signal(syscall.SIGTERM))
	select {
	case err := <-s.done:
		s.done <- err
		require.NoError(t, err, "serve did not exit cleanly:\n%s", readFile(s.log))
		tr.out("serve exited with status 0\n")
	case <-time.After(2 * time.Minute):
		t.Fatalf("serve did not stop within 2 minutes of SIGTERM:\n%s", readFile(s.log))
	}
}

// apiClient calls the API with a bearer token.
type apiClient struct {
	s     *server
	token string
}

func (s *server) login(t *testing.T, tr *transcript, username, password string) *apiClient {
	t.Helper()
	body, err := json.Marshal(map[string]string{"username": username, "password": password})
	require.NoError(t, err)
	c := &apiClient{s: s}
	res := c.call(t, tr, "POST", "/api/v1/auth/login", string(body), 200)
	c.token, _ = res["access_token"].(string)
	require.NotEmpty(t, c.token)
	return c
}

func (c *apiClient) call(t *testing.T, tr *transcript, method, path, body string, want int) map[string]any {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, method, c.s.base+path, strings.NewReader(body))
	require.NoError(t, err)
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	if c.token != "" {
		req.Header.Set("Authorization", "Bearer "+c.token)
	}
	resp, err := c.s.client.Do(req)
	require.NoError(t, err)
	defer func() { _ = resp.Body.Close() }()
	data, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	shown := body
	if strings.Contains(path, "/auth/login") {
		shown = `{"username":"admin","password":"…"}`
	}
	tr.step("%s %s %s", method, path, shown)
	out := map[string]any{}
	_ = json.Unmarshal(data, &out)
	if strings.Contains(path, "/auth/login") {
		tr.out(fmt.Sprintf("%d (signed in as %v)\n", resp.StatusCode, out["user"].(map[string]any)["username"]))
	} else {
		tr.out(fmt.Sprintf("%d %s\n", resp.StatusCode, bytes.TrimSpace(data)))
	}
	require.Equal(t, want, resp.StatusCode, "%s %s: %s", method, path, data)
	return out
}

// readNS reads a file inside the namespace without copying it to the transcript.
func readNS(t *testing.T, ns *namespace, path string) string {
	t.Helper()
	ns.tr.step("cat %s  # not shown", path)
	out, err := exec.Command("nsenter", "--target", strconv.Itoa(ns.pid), "--mount", "--", "cat", path).Output()
	require.NoError(t, err)
	return string(out)
}

func freePort(t *testing.T) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	defer func() { _ = l.Close() }()
	return l.Addr().(*net.TCPAddr).Port
}

func readFile(path string) string {
	data, _ := os.ReadFile(path)
	return string(data)
}

// stopOrphans kills and reaps the processes reparented to the test (it is their
// subreaper): a managed PostgreSQL left behind by a server that did not stop.
func stopOrphans() {
	for range 10 {
		self := strconv.Itoa(os.Getpid())
		entries, _ := os.ReadDir("/proc")
		found := false
		for _, e := range entries {
			pid, err := strconv.Atoi(e.Name())
			if err != nil {
				continue
			}
			status, err := os.ReadFile(filepath.Join("/proc", e.Name(), "status"))
			if err != nil || !strings.Contains(string(status), "\nPPid:\t"+self+"\n") {
				continue
			}
			found = true
			_ = syscall.Kill(pid, syscall.SIGKILL)
		}
		for {
			pid, err := syscall.Wait4(-1, nil, syscall.WNOHANG, nil)
			if pid <= 0 || err != nil {
				break
			}
		}
		if !found {
			return
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// TestUnitsExposure: systemd's own review of the units' sandbox (systemd-analyze security,
// offline, on the unit files) rates both "OK", at most 2.0 on its scale of 0 to 10.
func TestUnitsExposure(t *testing.T) {
	if _, err := exec.LookPath("systemd-analyze"); err != nil {
		t.Fatal("systemd-analyze is missing: run scripts/install-deps.sh")
	}
	for _, name := range []string{"openwatch.service", "openwatch-worker.service"} {
		path, err := filepath.Abs(filepath.Join("..", "..", "packaging", name))
		require.NoError(t, err)
		out, err := exec.Command("systemd-analyze", "security", "--offline=true", "--no-pager", path).CombinedOutput()
		require.NoError(t, err, "%s", out)
		m := regexp.MustCompile(`Overall exposure level for ` + regexp.QuoteMeta(name) + `: (\d+\.\d+) (\w+)`).FindSubmatch(out)
		require.NotNil(t, m, "%s", out)
		score, err := strconv.ParseFloat(string(m[1]), 64)
		require.NoError(t, err)
		t.Logf("systemd-analyze security --offline=true %s: exposure %.1f %s", name, score, m[2])
		require.LessOrEqual(t, score, 2.0, "%s", out)
		require.Equal(t, "OK", string(m[2]))
	}
}
