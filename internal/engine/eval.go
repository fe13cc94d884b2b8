package engine

import (
	"fmt"
	"maps"
	"reflect"
	"slices"
	"strings"
	"time"

	"github.com/openwatch/openwatch/internal/rule"
)

// Status is a rule's outcome on a host.
type Status string

// The outcomes.
const (
	StatusPass    Status = "pass"
	StatusFail    Status = "fail"
	StatusSkipped Status = "skipped" // not applicable, with the reason
	StatusError   Status = "error"   // not checked, with the reason
)

// Result is one rule's outcome on a host.
type Result struct {
	RuleID   string
	Status   Status
	Reason   string // why it was skipped or errored, or what failed
	Severity rule.Severity
	Evidence *Evidence // nil when no implementation was evaluated
	// Applicable is false when the rule is not for the host's platform: such a result is
	// not part of the host's compliance.
	Applicable bool
}

// Evidence is what a check looked at and found.
type Evidence struct {
	Method     string            `json:"method"`
	Parameters map[string]any    `json:"parameters"`
	Commands   []string          `json:"commands"`
	Output     string            `json:"output"`
	Truncated  bool              `json:"truncated"`
	Expected   string            `json:"expected"`
	Actual     string            `json:"actual"`
	Variables  map[string]string `json:"variables,omitempty"`
	DurationMS float64           `json:"duration_ms"`
	Status     Status            `json:"status"`
	// Records are the keys of the records the check read (their timings are the scan's).
	Records []string `json:"records"`
	// Checks are the parts of an all_of composite (Method "all_of").
	Checks []*Evidence `json:"checks,omitempty"`
}

// outcome is one typed check's verdict.
type outcome struct {
	status           Status
	reason           string
	expected, actual string
	output           string   // the part of the records this check looked at
	keys             []string // the records it read
}

func pass(expected, actual, output string) outcome {
	return outcome{status: StatusPass, expected: expected, actual: actual, output: output}
}

func fail(reason, expected, actual, output string) outcome {
	return outcome{status: StatusFail, reason: reason, expected: expected, actual: actual, output: output}
}

func skip(reason string) outcome { return outcome{status: StatusSkipped, reason: reason} }

func errored(reason string) outcome { return outcome{status: StatusError, reason: reason} }

// Evaluate gives every rule's result on the host from the scan's records. vars are the
// installation's site variable values; a rule's own defaults fill the rest.
func Evaluate(rules []*rule.Rule, rs *Records, host Host, vars map[string]string) []Result {
	out := make([]Result, 0, len(rules))
	for _, r := range rules {
		out = append(out, evaluateRule(r, rs, host, vars))
	}
	return out
}

func evaluateRule(r *rule.Rule, rs *Records, host Host, site map[string]string) Result {
	res := Result{RuleID: r.ID, Severity: r.Severity, Applicable: r.AppliesTo(host.Family, host.Version)}
	if !res.Applicable {
		res.Status, res.Reason = StatusSkipped, fmt.Sprintf("the rule is for %s; the host runs %s", platforms(r), hostName(host))
		return res
	}
	im := r.Select(host.Capabilities)
	if im == nil {
		res.Status, res.Reason = StatusSkipped, "no implementation of the rule fits the host's capabilities ("+guards(r)+")"
		return res
	}
	values := map[string]string{}
	for name, v := range r.Variables {
		if s, ok := site[name]; ok {
			values[name] = s
		} else if v.Default != nil {
			values[name] = *v.Default
		}
	}
	ev := evaluateCheck(r, &im.Check, rs, values)
	res.Evidence = ev
	res.Status = ev.Status
	res.Reason = reasonOf(ev)
	return res
}

// reasonOf is the first reason among the evidence's parts with the overall status.
func reasonOf(ev *Evidence) string {
	if ev.Status == StatusPass {
		return ""
	}
	if ev.Method != "all_of" {
		return ev.Actual
	}
	for _, c := range ev.Checks {
		if c.Status == ev.Status {
			return reasonOf(c)
		}
	}
	return ""
}

func platforms(r *rule.Rule) string {
	var parts []string
	for _, p := range r.Platforms {
		s := p.Family
		switch {
		case p.MinVersion != "" && p.MaxVersion != "":
			s += fmt.Sprintf(" %s to %s", p.MinVersion, p.MaxVersion)
		case p.MinVersion != "":
			s += fmt.Sprintf(" %s or later", p.MinVersion)
		case p.MaxVersion != "":
			s += fmt.Sprintf(" up to %s", p.MaxVersion)
		}
		parts = append(parts, s)
	}
	return strings.Join(parts, ", ")
}

func hostName(h Host) string {
	if h.Family == "" {
		return fmt.Sprintf("%s %s, which no rule family covers", h.ID, h.Version)
	}
	return fmt.Sprintf("%s %s", h.Family, h.Version)
}

func guards(r *rule.Rule) string {
	var g []string
	for _, im := range r.Implementations {
		if im.When != nil {
			g = append(g, im.When.String())
		}
	}
	return "needs " + strings.Join(g, " or ")
}

// evaluateCheck evaluates a typed check or a composite. A composite fails when any part
// was checked and failed, errors when a part could not be checked (and none failed), is
// skipped when every part is, and passes otherwise.
func evaluateCheck(r *rule.Rule, c *rule.Check, rs *Records, values map[string]string) *Evidence {
	if c.AllOf != nil {
		ev := &Evidence{Method: "all_of", Parameters: map[string]any{}, Variables: usedValues(c, values)}
		statuses := map[Status]int{}
		for i := range c.AllOf {
			part := evaluateCheck(r, &c.AllOf[i], rs, values)
			ev.Checks = append(ev.Checks, part)
			ev.Commands = append(ev.Commands, part.Commands...)
			ev.Records = append(ev.Records, part.Records...)
			ev.DurationMS += part.DurationMS
			statuses[part.Status]++
		}
		switch {
		case statuses[StatusFail] > 0:
			ev.Status = StatusFail
		case statuses[StatusError] > 0:
			ev.Status = StatusError
		case statuses[StatusSkipped] == len(c.AllOf):
			ev.Status = StatusSkipped
		default:
			ev.Status = StatusPass
		}
		ev.Commands = slices.Compact(ev.Commands)
		ev.Records = slices.Compact(ev.Records)
		return ev
	}
	params, missing := rule.ExpandParams(c.Params, values)
	keys := recordKeys(r, c)
	parameters, _ := rule.ParamsMap(params) // a typed check's parameters always render
	ev := &Evidence{Method: c.Method, Parameters: parameters, Variables: usedValues(c, values), Records: keys}
	var o outcome
	if missing != "" {
		o = errored(fmt.Sprintf("the site variable %s has no value: set it in the scan variables", missing))
	} else {
		o = evaluateTyped(params, rs, keys)
	}
	ev.Status, ev.Expected, ev.Actual = o.status, o.expected, o.actual
	if o.status != StatusPass && o.reason != "" {
		ev.Actual = o.reason
		if o.actual != "" && o.actual != o.reason {
			ev.Actual = o.reason + " (" + o.actual + ")"
		}
	}
	ev.Output, ev.Truncated = capText(o.output)
	for _, k := range keys {
		if rec, ok := rs.ByKey[k]; ok {
			ev.Commands = append(ev.Commands, rec.Command)
			ev.DurationMS += float64(rec.Duration) / float64(time.Millisecond)
			ev.Truncated = ev.Truncated || rec.Truncated
		}
	}
	return ev
}

// capText keeps evidence output within the per-check cap.
func capText(s string) (string, bool) {
	if len(s) <= CheckOutputCap {
		return s, false
	}
	cut := CheckOutputCap
	for cut > 0 && !utf8Start(s[cut]) {
		cut--
	}
	return s[:cut], true
}

func utf8Start(b byte) bool { return b&0xC0 != 0x80 }

// recordKeys lists the records a typed check of r reads.
func recordKeys(r *rule.Rule, c *rule.Check) []string {
	switch p := c.Params.(type) {
	case *rule.ConfigValue:
		return []string{keyConfig}
	case *rule.SSHDConfig:
		return []string{keySSHD}
	case *rule.Sysctl:
		return []string{keySysctl, keySysctlD}
	case *rule.PackageState:
		return []string{keyPackages}
	case *rule.ServiceState:
		return []string{keyUnits}
	case *rule.KernelModule:
		return []string{keyModprobe}
	case *rule.MountOption:
		return []string{keyMounts}
	case *rule.FilePermission, *rule.FileExists:
		return []string{keyStat}
	case *rule.FileContent:
		return []string{"file " + p.Path}
	case *rule.FileTree:
		return []string{treeKey(p)}
	case *rule.AuditRule:
		return []string{keyAuditctl, keyAuditFiles}
	case *rule.GrubParameter:
		return []string{keyCmdline, keyBootConfig}
	case *rule.SELinuxState:
		return []string{keySELinux}
	case *rule.AppArmorState:
		return []string{keyAppArmor}
	case *rule.SystemdTarget:
		return []string{keyTarget}
	case *rule.Command:
		return []string{commandKey(r, c)}
	}
	return nil
}

// evaluateTyped dispatches on the check's parameter type.
func evaluateTyped(p any, rs *Records, keys []string) outcome {
	switch p := p.(type) {
	case *rule.ConfigValue:
		return evalConfigValue(p, rs)
	case *rule.SSHDConfig:
		return evalSSHD(p, rs)
	case *rule.Sysctl:
		return evalSysctl(p, rs)
	case *rule.PackageState:
		return evalPackage(p, rs)
	case *rule.ServiceState:
		return evalService(p, rs)
	case *rule.KernelModule:
		return evalKernelModule(p, rs)
	case *rule.MountOption:
		return evalMount(p, rs)
	case *rule.FilePermission:
		return evalFilePermission(p, rs)
	case *rule.FileExists:
		return evalFileExists(p, rs)
	case *rule.FileTree:
		return evalFileTree(p, rs)
	case *rule.FileContent:
		return evalFileContent(p, rs)
	case *rule.AuditRule:
		return evalAuditRule(p, rs)
	case *rule.GrubParameter:
		return evalGrub(p, rs)
	case *rule.SELinuxState:
		return evalSELinux(p, rs)
	case *rule.AppArmorState:
		return evalAppArmor(p, rs)
	case *rule.SystemdTarget:
		return evalTarget(p, rs)
	case *rule.Command:
		return evalCommand(p, rs, keys[0])
	}
	return errored(fmt.Sprintf("no evaluator for %T", p))
}

// usedValues are the variable values a check uses.
func usedValues(c *rule.Check, values map[string]string) map[string]string {
	used := map[string]string{}
	c.Walk(func(tc *rule.Check) {
		v := reflect.ValueOf(tc.Params).Elem()
		for i := range v.NumField() {
			if v.Field(i).Kind() != reflect.String {
				continue
			}
			for _, name := range rule.UsedVariables(v.Field(i).String()) {
				if val, ok := values[name]; ok {
					used[name] = val
				}
			}
		}
	})
	if len(used) == 0 {
		return nil
	}
	return maps.Clone(used)
}
