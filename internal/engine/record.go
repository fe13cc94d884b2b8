package engine

import (
	"bufio"
	"bytes"
	"fmt"
	"strings"
	"time"

	"github.com/openwatch/openwatch/internal/rule"
	"github.com/openwatch/openwatch/internal/sshx"
)

// Record is what one command of the program returned.
type Record struct {
	Key       string
	Command   string // the command text (without the capping wrapper)
	Stdout    []byte
	Stderr    []byte
	Exit      int
	Truncated bool
	Duration  time.Duration
	Root      bool // the record needs root
}

// Records are a scan's records by key, with the privilege they ran with.
type Records struct {
	ByKey     map[string]*Record
	Privilege sshx.Privilege
	Cap       map[string]int // output cap per key
}

// problem returns why a record cannot be used, or "" when it can.
func (rs *Records) problem(key string) string {
	r, ok := rs.ByKey[key]
	if !ok {
		return "the scan did not read " + key
	}
	if r.Root && rs.Privilege == sshx.PrivNone {
		return fmt.Sprintf("reading %s needs root, and the host gives none (not root, no sudo)", key)
	}
	switch {
	case r.Truncated:
		return fmt.Sprintf("the output of %s exceeded %d bytes", key, rs.Cap[key])
	case r.Exit == 124:
		return fmt.Sprintf("%s timed out", key)
	case r.Exit == 126 || r.Exit == 127:
		return fmt.Sprintf("%s could not run: %s", key, firstLine(r.Stderr))
	}
	return ""
}

// get returns a usable record, or the reason it is not.
func (rs *Records) get(key string) (*Record, string) {
	if p := rs.problem(key); p != "" {
		return rs.ByKey[key], p
	}
	return rs.ByKey[key], ""
}

func firstLine(b []byte) string {
	s := strings.TrimSpace(string(b))
	if i := strings.IndexByte(s, '\n'); i >= 0 {
		s = s[:i]
	}
	if s == "" {
		return "no message"
	}
	if len(s) > 200 {
		s = s[:200] + "…"
	}
	return s
}

// lines splits output into lines without their newline.
func lines(b []byte) []string {
	var out []string
	sc := bufio.NewScanner(bytes.NewReader(b))
	sc.Buffer(make([]byte, 64<<10), SourceOutputCap+1)
	for sc.Scan() {
		out = append(out, sc.Text())
	}
	return out
}

// Host is what a scan learned about the host itself.
type Host struct {
	ID           string // os-release ID
	Family       string // debian, ubuntu or rhel; "" when unknown
	Version      rule.Version
	PrettyName   string
	Capabilities map[string]bool
	Privilege    sshx.Privilege
}

// rhelLike are os-release IDs of the RHEL family.
var rhelLike = map[string]bool{"rhel": true, "centos": true, "rocky": true, "almalinux": true, "ol": true, "eurolinux": true, "circle": true, "scientific": true}

// ParseHost reads the host's identity and capabilities from their records.
func ParseHost(rs *Records) (Host, error) {
	h := Host{Capabilities: map[string]bool{}, Privilege: rs.Privilege}
	r, problem := rs.get(keyOS)
	if problem != "" {
		return h, fmt.Errorf("read /etc/os-release: %s", problem)
	}
	kv := map[string]string{}
	for _, l := range lines(r.Stdout) {
		k, v, ok := strings.Cut(l, "=")
		if !ok {
			continue
		}
		kv[strings.TrimSpace(k)] = strings.Trim(strings.TrimSpace(v), `"'`)
	}
	h.ID, h.PrettyName = kv["ID"], kv["PRETTY_NAME"]
	h.Version = rule.Version(kv["VERSION_ID"])
	switch {
	case h.ID == "debian" || h.ID == "ubuntu":
		h.Family = h.ID
	case rhelLike[h.ID]:
		h.Family = "rhel"
	default:
		for _, like := range strings.Fields(kv["ID_LIKE"]) {
			if like == "rhel" {
				h.Family = "rhel"
			}
		}
	}
	if h.ID == "" {
		return h, fmt.Errorf("/etc/os-release names no ID")
	}
	c, problem := rs.get(keyCaps)
	if problem != "" {
		return h, fmt.Errorf("detect capabilities: %s", problem)
	}
	h.Capabilities = ParseCapabilities(c.Stdout)
	return h, nil
}

// CapabilityCommand is the command that probes a host's capabilities (rule.Capabilities),
// the same one a scan runs: its standard output is one "name=1" or "name=0" line per
// capability. The change machinery runs it to pick the implementation a host uses.
func CapabilityCommand() sshx.Command {
	return sshx.Command{Name: keyCaps, Script: capabilityScript()}
}

// ParseCapabilities reads CapabilityCommand's output into the capabilities that hold (and
// those that do not, as false), as a scan reads them.
func ParseCapabilities(stdout []byte) map[string]bool {
	caps := map[string]bool{}
	for _, l := range lines(stdout) {
		if name, v, ok := strings.Cut(l, "="); ok {
			caps[name] = v == "1"
		}
	}
	return caps
}
