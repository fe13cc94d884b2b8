package engine

import (
	"fmt"
	"slices"
	"strings"

	"github.com/openwatch/openwatch/internal/rule"
)

// auditRule is an audit rule reduced to its meaning.
type auditRule struct {
	watch    bool
	action   string   // "always,exit" with its parts sorted
	fields   []string // "name<op>value", sorted, unset spelled -1, without the key
	syscalls []string // sorted; empty for all
	path     string   // a watch's path, without a trailing slash
	perms    string   // a watch's permission letters, sorted
	key      string
	text     string
}

var fieldOps = []string{"!=", ">=", "<=", "&=", "=", ">", "<", "&"}

// parseAuditRule parses one rule as auditctl -l prints it or a rules file writes it.
func parseAuditRule(text string) (auditRule, bool) {
	r := auditRule{text: strings.TrimSpace(text)}
	tok := strings.Fields(text)
	if len(tok) < 2 {
		return r, false
	}
	for i := 0; i < len(tok); i++ {
		next := func() string {
			if i+1 < len(tok) {
				i++
				return tok[i]
			}
			return ""
		}
		switch tok[i] {
		case "-a", "-A":
			parts := strings.Split(next(), ",")
			slices.Sort(parts)
			r.action = strings.Join(parts, ",")
		case "-w":
			r.watch, r.path = true, strings.TrimRight(next(), "/")
		case "-p":
			p := strings.Split(next(), "")
			slices.Sort(p)
			r.perms = strings.Join(p, "")
		case "-S":
			for _, s := range strings.Split(next(), ",") {
				if s != "" && s != "all" {
					r.syscalls = append(r.syscalls, s)
				}
			}
		case "-k":
			r.key = next()
		case "-F", "-C":
			f := next()
			name, op, value := splitField(f)
			if name == "key" {
				r.key = value
				continue
			}
			switch name {
			case "auid", "uid", "euid", "suid", "fsuid", "loginuid", "gid", "egid":
				if value == "unset" || value == "4294967295" {
					value = "-1"
				}
			case "path", "dir":
				value = strings.TrimRight(value, "/")
			case "perm":
				p := strings.Split(value, "")
				slices.Sort(p)
				value = strings.Join(p, "")
			}
			prefix := ""
			if tok[i-1] == "-C" {
				prefix = "C:"
			}
			r.fields = append(r.fields, prefix+name+op+value)
		default:
			return r, false
		}
	}
	slices.Sort(r.fields)
	slices.Sort(r.syscalls)
	r.syscalls = slices.Compact(r.syscalls)
	if !r.watch && r.action == "" {
		return r, false
	}
	return r, true
}

func splitField(f string) (name, op, value string) {
	for _, o := range fieldOps {
		if i := strings.Index(f, o); i > 0 {
			return f[:i], o, f[i+len(o):]
		}
	}
	return f, "", ""
}

// covers reports whether r does at least what want asks: the same action and fields (or
// watch path), and every syscall (or permission) want names.
func (r auditRule) covers(want auditRule) bool {
	if r.watch != want.watch {
		return false
	}
	if r.watch {
		return r.path == want.path && containsAll(r.perms, want.perms)
	}
	if r.action != want.action || !slices.Equal(r.fields, want.fields) {
		return false
	}
	if len(r.syscalls) == 0 {
		return true // every syscall
	}
	if len(want.syscalls) == 0 {
		return false
	}
	for _, s := range want.syscalls {
		if !slices.Contains(r.syscalls, s) {
			return false
		}
	}
	return true
}

func containsAll(have, want string) bool {
	for _, c := range want {
		if !strings.ContainsRune(have, c) {
			return false
		}
	}
	return true
}

// findAudit returns the first rule among lines that satisfies want ("-k NAME": any rule
// carrying the key).
func findAudit(lines []string, want auditRule, keyOnly string) (string, bool) {
	for _, l := range lines {
		r, ok := parseAuditRule(l)
		if !ok {
			continue
		}
		if keyOnly != "" && r.key == keyOnly || keyOnly == "" && r.covers(want) {
			return r.text, true
		}
	}
	return "", false
}

func evalAuditRule(p *rule.AuditRule, rs *Records) outcome {
	var want auditRule
	keyOnly := ""
	if f := strings.Fields(p.Rule); len(f) == 2 && f[0] == "-k" {
		keyOnly = f[1]
	} else {
		var ok bool
		if want, ok = parseAuditRule(p.Rule); !ok {
			return errored(fmt.Sprintf("the rule's audit rule %q cannot be parsed", p.Rule))
		}
	}
	expected := p.Rule + " (loaded and persisted)"
	if keyOnly != "" {
		expected = "a rule with key " + keyOnly + " (loaded and persisted)"
	}
	loadedRec, problem := rs.get(keyAuditctl)
	if problem != "" {
		return errored(problem)
	}
	loadedLines := lines(loadedRec.Stdout)
	if len(loadedLines) > 0 && loadedLines[0] == "#!noauditctl" {
		return fail("auditctl is not installed, so no audit rules are loaded", expected, "no audit system", "")
	}
	if loadedRec.Exit != 0 {
		return errored("auditctl -l failed: " + firstLine(loadedRec.Stderr))
	}
	filesRec, problem := rs.get(keyAuditFiles)
	if problem != "" {
		return errored(problem)
	}
	var persisted []string
	for _, l := range lines(filesRec.Stdout) {
		if !strings.HasPrefix(l, "#!file\t") {
			persisted = append(persisted, l)
		}
	}
	loaded, inKernel := findAudit(loadedLines, want, keyOnly)
	saved, inFiles := findAudit(persisted, want, keyOnly)
	output := strings.TrimSpace(loaded + "\n" + saved)
	switch {
	case !inKernel && !inFiles:
		return fail("the audit rule is neither loaded nor in /etc/audit/rules.d", expected, "absent", output)
	case !inKernel:
		return fail("the audit rule is in /etc/audit/rules.d but not loaded", expected, "persisted only: "+saved, output)
	case !inFiles:
		return fail("the audit rule is loaded but not in /etc/audit/rules.d, so a reboot loses it", expected, "loaded only: "+loaded, output)
	}
	return pass(expected, loaded, output)
}
