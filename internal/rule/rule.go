package rule

import (
	"fmt"
	"reflect"
	"regexp"
	"slices"
	"strconv"
	"strings"
)

// Severity ranks a rule. Its order is critical > high > medium > low.
type Severity string

// The severities.
const (
	SeverityCritical Severity = "critical"
	SeverityHigh     Severity = "high"
	SeverityMedium   Severity = "medium"
	SeverityLow      Severity = "low"
)

// Severities lists the severities from the most to the least severe.
var Severities = []Severity{SeverityCritical, SeverityHigh, SeverityMedium, SeverityLow}

// Rank is 4 for critical down to 1 for low, 0 for an unknown value.
func (s Severity) Rank() int {
	if i := slices.Index(Severities, s); i >= 0 {
		return len(Severities) - i
	}
	return 0
}

// Categories is the closed set of rule categories.
var Categories = []string{"access-control", "audit", "filesystem", "kernel", "logging", "network", "services", "system"}

// Families is the closed set of platform families. A host's os-release maps onto one of
// them (package engine): Debian is its own family, RHEL's rebuilds are rhel.
var Families = []string{"debian", "ubuntu", "rhel"}

// Capabilities is the closed set of capability names an implementation may be guarded
// by. Package engine detects every one of them on the host, in the scan's session.
var Capabilities = []string{
	"apt",              // apt-get is installed (Debian and Ubuntu packaging)
	"dnf",              // dnf or yum is installed (RHEL packaging)
	"sshd_config_d",    // sshd's main config includes its drop-in directory
	"gdm",              // the GNOME display manager is installed
	"authselect",       // authselect manages PAM (RHEL)
	"pam_faillock",     // the pam_faillock module is installed
	"selinux",          // SELinux is enforcing or permissive
	"apparmor",         // AppArmor is enabled in the kernel
	"firewalld",        // firewalld is installed
	"nftables_active",  // the nftables service is active
	"rsyslog_active",   // the rsyslog service is active
	"sssd",             // sssd is installed
	"sssd_configured",  // sssd has a configuration file
	"directory_joined", // the host is joined to a directory (realm or sssd domain)
	"systemd",          // systemd is the init system
	"journald_remote",  // systemd-journal-remote is installed
	"grub",             // a GRUB boot loader configuration exists
}

// Mechanisms is the closed set of remediation mechanism names. A later component executes
// them; the rule names which one would make it pass.
var Mechanisms = []string{
	"apt_absent", "apt_present", "audit_rule_set", "authselect_feature_enable", "command_exec",
	"config_append", "config_set", "config_set_dropin", "cron_job", "crypto_policy_set",
	"crypto_policy_subpolicy", "dconf_set", "file_absent", "file_content", "file_permissions",
	"grub_parameter_remove", "grub_parameter_set", "kernel_module_disable", "manual",
	"mount_option_set", "package_absent", "package_present", "pam_module_arg",
	"pam_module_configure", "service_enabled", "service_masked", "sysctl_set",
}

// Benchmarks is the closed set of CIS and STIG benchmark keys a reference may name.
var Benchmarks = []string{"rhel8", "rhel9", "rhel10", "ubuntu22", "ubuntu24"}

// ID is a rule id: lowercase letters, digits, '-' and '_', starting with a letter.
var idPattern = regexp.MustCompile(`^[a-z][a-z0-9_-]*[a-z0-9]$`)

// ValidID reports whether id is well-formed.
func ValidID(id string) bool { return len(id) <= 100 && idPattern.MatchString(id) }

// Rule is one compliance rule.
type Rule struct {
	ID              string              `yaml:"id"`
	Title           string              `yaml:"title"`
	Description     string              `yaml:"description"`
	Rationale       string              `yaml:"rationale"`
	Severity        Severity            `yaml:"severity"`
	Category        string              `yaml:"category"`
	Platforms       []Platform          `yaml:"platforms"`
	References      References          `yaml:"references"`
	Variables       map[string]Variable `yaml:"variables,omitempty"`
	DependsOn       []string            `yaml:"depends_on,omitempty"`
	ConflictsWith   []string            `yaml:"conflicts_with,omitempty"`
	Supersedes      []string            `yaml:"supersedes,omitempty"`
	Implementations []Implementation    `yaml:"implementations"`

	// Source is "corpus/<id>.yaml:<line>", where the rule was read from.
	Source string `yaml:"-"`
}

// Platform is a family with an inclusive version range; an empty bound is open.
type Platform struct {
	Family     string  `yaml:"family"`
	MinVersion Version `yaml:"min_version,omitempty"`
	MaxVersion Version `yaml:"max_version,omitempty"`
}

// Version is a dotted numeric version such as "12" or "22.04". In YAML it may be written
// as a number.
type Version string

// Compare compares dotted numeric versions component by component ("22.04" > "22",
// "9.10" > "9.9"); a missing component counts as 0, a non-numeric one as 0.
func (v Version) Compare(o Version) int {
	a, b := strings.Split(string(v), "."), strings.Split(string(o), ".")
	for i := range max(len(a), len(b)) {
		x, y := component(a, i), component(b, i)
		if x != y {
			if x < y {
				return -1
			}
			return 1
		}
	}
	return 0
}

func component(parts []string, i int) int {
	if i >= len(parts) {
		return 0
	}
	n, _ := strconv.Atoi(parts[i])
	return n
}

var versionPattern = regexp.MustCompile(`^[0-9]+(\.[0-9]+)*$`)

// Matches reports whether a host of family and version falls within p. Only the
// components the bound names are compared: max_version 8 admits 8.10.
func (p Platform) Matches(family string, version Version) bool {
	if p.Family != family {
		return false
	}
	if p.MinVersion != "" && version.Compare(p.MinVersion) < 0 {
		return false
	}
	if p.MaxVersion != "" {
		n := len(strings.Split(string(p.MaxVersion), "."))
		parts := strings.Split(string(version), ".")
		if len(parts) > n {
			parts = parts[:n]
		}
		if Version(strings.Join(parts, ".")).Compare(p.MaxVersion) > 0 {
			return false
		}
	}
	return true
}

// AppliesTo reports whether any of the rule's platforms admits the host.
func (r *Rule) AppliesTo(family string, version Version) bool {
	for _, p := range r.Platforms {
		if p.Matches(family, version) {
			return true
		}
	}
	return false
}

// References are the framework entries a rule maps to.
type References struct {
	CIS        map[string][]CISRef  `yaml:"cis,omitempty"`  // by benchmark key
	STIG       map[string][]STIGRef `yaml:"stig,omitempty"` // by benchmark key
	NIST80053  []string             `yaml:"nist_800_53,omitempty"`
	NIST800171 []string             `yaml:"nist_800_171,omitempty"`
	PCIDSS4    []string             `yaml:"pci_dss_4,omitempty"`
	SRG        []string             `yaml:"srg,omitempty"`
}

// CISRef is one CIS benchmark recommendation.
type CISRef struct {
	Section string `yaml:"section"`
	Level   string `yaml:"level"` // L1 or L2
	Type    string `yaml:"type"`  // Automated or Manual
}

// STIGRef is one DISA STIG requirement.
type STIGRef struct {
	VulnID string   `yaml:"vuln_id"`
	STIGID string   `yaml:"stig_id,omitempty"`
	CAT    string   `yaml:"cat"` // CAT I, CAT II or CAT III
	CCI    []string `yaml:"cci,omitempty"`
}

// Variable is a site variable: a value a check uses as {{ name }}, with a default an
// installation may override. A variable without a default must be set before the rules
// using it can evaluate.
type Variable struct {
	Default     *string `yaml:"default"`
	Description string  `yaml:"description,omitempty"`
}

// Implementation is one way to check the rule: used when its guard holds (or, without a
// guard, when no guarded implementation's does).
type Implementation struct {
	When        *Guard `yaml:"when,omitempty"`
	Check       Check  `yaml:"check"`
	Remediation Names  `yaml:"remediation"`
}

// Names is a list of names, written as a single name when it has one.
type Names []string

// MarshalYAML writes one name alone, several as a list.
func (n Names) MarshalYAML() (any, error) {
	if len(n) == 1 {
		return n[0], nil
	}
	return []string(n), nil
}

// Guard is a capability expression: one capability, or all of several.
type Guard struct {
	All []string
}

// Holds reports whether every capability of the guard is among caps.
func (g *Guard) Holds(caps map[string]bool) bool {
	for _, c := range g.All {
		if !caps[c] {
			return false
		}
	}
	return true
}

// String renders the guard as written: "apt" or "all(authselect, pam_faillock)".
func (g *Guard) String() string {
	if len(g.All) == 1 {
		return g.All[0]
	}
	return "all(" + strings.Join(g.All, ", ") + ")"
}

// Select returns the implementation for a host with caps: the first guarded one that
// holds, else the unguarded one; nil when none applies.
func (r *Rule) Select(caps map[string]bool) *Implementation {
	for i := range r.Implementations {
		if g := r.Implementations[i].When; g != nil && g.Holds(caps) {
			return &r.Implementations[i]
		}
	}
	for i := range r.Implementations {
		if r.Implementations[i].When == nil {
			return &r.Implementations[i]
		}
	}
	return nil
}

// FrameworkIDs returns the framework ids the rule maps to (see Framework), sorted.
func (r *Rule) FrameworkIDs() []string {
	var ids []string
	for b := range r.References.CIS {
		ids = append(ids, "cis-"+b)
	}
	for b := range r.References.STIG {
		ids = append(ids, "stig-"+b)
	}
	if len(r.References.NIST80053) > 0 {
		ids = append(ids, "nist-800-53")
	}
	if len(r.References.NIST800171) > 0 {
		ids = append(ids, "nist-800-171")
	}
	if len(r.References.PCIDSS4) > 0 {
		ids = append(ids, "pci-dss-4")
	}
	if len(r.References.SRG) > 0 {
		ids = append(ids, "srg")
	}
	slices.Sort(ids)
	return ids
}

// InFramework reports whether the rule maps to the framework id.
func (r *Rule) InFramework(id string) bool {
	return slices.Contains(r.FrameworkIDs(), id)
}

// Methods returns the distinct check methods of the rule's implementations, sorted.
func (r *Rule) Methods() []string {
	var ms []string
	for _, im := range r.Implementations {
		im.Check.walk(func(c *Check) { ms = append(ms, c.Method) })
	}
	slices.Sort(ms)
	return slices.Compact(ms)
}

// varPattern finds {{ name }} in check parameters.
var varPattern = regexp.MustCompile(`\{\{\s*([a-zA-Z0-9_]+)\s*\}\}`)

// UsedVariables returns the names the string refers to as {{ name }}.
func UsedVariables(s string) []string {
	var names []string
	for _, m := range varPattern.FindAllStringSubmatch(s, -1) {
		names = append(names, m[1])
	}
	return names
}

// Expand replaces every {{ name }} in s with its value from vars; ok is false (and s
// unchanged) when a name has no value.
func Expand(s string, vars map[string]string) (string, bool) {
	ok := true
	out := varPattern.ReplaceAllStringFunc(s, func(m string) string {
		name := varPattern.FindStringSubmatch(m)[1]
		v, found := vars[name]
		if !found {
			ok = false
			return m
		}
		return v
	})
	if !ok {
		return s, false
	}
	return out, true
}

// errorf formats a rule error with its source position.
func errorf(source string, line int, format string, args ...any) error {
	return fmt.Errorf("%s:%d: %s", source, line, fmt.Sprintf(format, args...))
}

// ExpandParams returns a copy of a typed check's parameters (a pointer to its struct) with
// {{ variables }} replaced in its string fields, or the original and the name of the first
// variable without a value.
func ExpandParams(p any, values map[string]string) (any, string) {
	src := reflect.ValueOf(p).Elem()
	dst := reflect.New(src.Type())
	dst.Elem().Set(src)
	for i := range dst.Elem().NumField() {
		f := dst.Elem().Field(i)
		if f.Kind() != reflect.String {
			continue
		}
		s, ok := Expand(f.String(), values)
		if !ok {
			for _, name := range UsedVariables(f.String()) {
				if _, found := values[name]; !found {
					return p, name
				}
			}
		}
		f.SetString(s)
	}
	return dst.Interface(), ""
}
