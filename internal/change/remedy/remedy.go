package remedy

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/openwatch/openwatch/internal/change"
	"github.com/openwatch/openwatch/internal/rule"
)

// Plan is how one rule is remediated on a host: the actions that make its check pass, or,
// when the mechanism is not declarative, guidance for a person.
type Plan struct {
	RuleID string `json:"rule_id"`
	// Mechanism is the implementation's remediation, its names joined with "+" when the
	// check is a composite with one mechanism per part.
	Mechanism string          `json:"mechanism"`
	Actions   []change.Action `json:"actions"`
	// Manual is set when no action is derived: Guidance says what to do.
	Manual   bool   `json:"manual"`
	Guidance string `json:"guidance,omitempty"`
}

// Select returns the implementation a host with caps uses (the one its scans evaluate),
// nil when none applies. The caps come from engine.CapabilityCommand.
func Select(r *rule.Rule, caps map[string]bool) *rule.Implementation { return r.Select(caps) }

// Automatic lists the mechanisms Build can turn into actions (on checks they fit).
var Automatic = []string{
	"config_set", "config_set_dropin", "config_append", "sysctl_set", "package_present",
	"package_absent", "apt_present", "apt_absent", "service_enabled", "service_masked",
	"file_permissions", "kernel_module_disable", "mount_option_set", "audit_rule_set",
}

// Build derives the plan for impl, an implementation of r, with the site variables vars
// (a rule's defaults fill the rest). It fails only when a variable the check uses has no
// value; a mechanism that cannot be derived gives a manual plan.
func Build(r *rule.Rule, impl *rule.Implementation, vars map[string]string) (Plan, error) {
	values := map[string]string{}
	for name, v := range r.Variables {
		if s, ok := vars[name]; ok {
			values[name] = s
		} else if v.Default != nil {
			values[name] = *v.Default
		}
	}
	var parts []any
	var err error
	impl.Check.Walk(func(c *rule.Check) {
		if err != nil {
			return
		}
		p, missing := rule.ExpandParams(c.Params, values)
		if missing != "" {
			err = fmt.Errorf("remedy: rule %s: the site variable %s has no value", r.ID, missing)
			return
		}
		parts = append(parts, p)
	})
	if err != nil {
		return Plan{}, err
	}
	plan := Plan{RuleID: r.ID, Mechanism: strings.Join(impl.Remediation, "+")}
	mechs := make([]string, len(parts))
	for i := range parts {
		switch {
		case len(impl.Remediation) == len(parts):
			mechs[i] = impl.Remediation[i]
		case len(impl.Remediation) == 1:
			mechs[i] = impl.Remediation[0]
		}
	}
	for i, p := range parts {
		a, ok := derive(mechs[i], p)
		if !ok {
			plan.Actions, plan.Manual = nil, true
			plan.Guidance = guidance(r, parts)
			return plan, nil
		}
		plan.Actions = append(plan.Actions, a)
	}
	return plan, nil
}

// derive builds the action of one mechanism on one typed check; ok is false when the
// mechanism is not declarative or does not fit the check.
func derive(mech string, p any) (change.Action, bool) {
	switch p := p.(type) {
	case *rule.ConfigValue:
		switch mech {
		case "config_set", "config_append":
			return configSet(mech, p, p.Path)
		case "config_set_dropin":
			if p.DropinDir == "" {
				return change.Action{}, false
			}
			return configSet(mech, p, strings.TrimSuffix(p.DropinDir, "/")+"/99-openwatch.conf")
		}
	case *rule.SSHDConfig:
		switch mech {
		case "config_set":
			return sshdSet(mech, p, "/etc/ssh/sshd_config")
		case "config_set_dropin":
			return sshdSet(mech, p, "/etc/ssh/sshd_config.d/00-openwatch.conf")
		}
	case *rule.Sysctl:
		if mech == "sysctl_set" {
			return sysctlSet(p), true
		}
	case *rule.PackageState:
		switch mech {
		case "package_present", "apt_present":
			if p.State == "present" {
				return packageAction(mech, p.Name, true), true
			}
		case "package_absent", "apt_absent":
			if p.State == "absent" {
				return packageAction(mech, p.Name, false), true
			}
		}
	case *rule.ServiceState:
		if mech == "service_enabled" || mech == "service_masked" {
			return serviceAction(mech, p)
		}
	case *rule.FilePermission:
		if mech == "file_permissions" {
			return filePermissions(p), true
		}
	case *rule.FileTree:
		if mech == "file_permissions" {
			return fileTree(p)
		}
	case *rule.KernelModule:
		if mech == "kernel_module_disable" {
			return kernelModule(p), true
		}
	case *rule.MountOption:
		if mech == "mount_option_set" {
			return mountOption(p), true
		}
	case *rule.AuditRule:
		if mech == "audit_rule_set" {
			return auditRule(p)
		}
	}
	return change.Action{}, false
}

// wanted is the value that satisfies comparator and expected: ok is false for "!=" and for
// a strict comparison with a value that is not a number.
func wanted(comparator, expected string) (string, bool) {
	switch comparator {
	case "", "=", "<=", ">=":
		return expected, true
	case "<", ">":
		n, err := strconv.ParseInt(strings.TrimSpace(expected), 10, 64)
		if err != nil {
			return "", false
		}
		if comparator == "<" {
			n--
		} else {
			n++
		}
		return strconv.FormatInt(n, 10), true
	}
	return "", false
}
