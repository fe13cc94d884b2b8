package rule

import (
	"fmt"
	"reflect"
	"regexp"
	"slices"
	"strings"
)

// Check is one typed check, or a composite of several that must all pass (AllOf, Method
// empty). Params holds a pointer to the method's parameter struct.
type Check struct {
	Method string
	Params any
	AllOf  []Check
}

// Methods is the closed set of check methods and their parameter structs.
var Methods = map[string]reflect.Type{
	"config_value":          reflect.TypeFor[ConfigValue](),
	"sshd_effective_config": reflect.TypeFor[SSHDConfig](),
	"sysctl_value":          reflect.TypeFor[Sysctl](),
	"package_state":         reflect.TypeFor[PackageState](),
	"service_state":         reflect.TypeFor[ServiceState](),
	"kernel_module_state":   reflect.TypeFor[KernelModule](),
	"mount_option":          reflect.TypeFor[MountOption](),
	"file_permission":       reflect.TypeFor[FilePermission](),
	"file_tree":             reflect.TypeFor[FileTree](),
	"file_exists":           reflect.TypeFor[FileExists](),
	"file_content":          reflect.TypeFor[FileContent](),
	"audit_rule_exists":     reflect.TypeFor[AuditRule](),
	"grub_parameter":        reflect.TypeFor[GrubParameter](),
	"selinux_state":         reflect.TypeFor[SELinuxState](),
	"apparmor_state":        reflect.TypeFor[AppArmorState](),
	"systemd_target":        reflect.TypeFor[SystemdTarget](),
	"command":               reflect.TypeFor[Command](),
}

// MethodNames returns the method names, sorted.
func MethodNames() []string {
	names := make([]string, 0, len(Methods))
	for m := range Methods {
		names = append(names, m)
	}
	slices.Sort(names)
	return names
}

// Comparators a value check may use. "=" (the default) compares as strings, the others
// as integers.
var Comparators = []string{"=", "!=", "<=", ">=", "<", ">"}

// ConfigValue checks a key in a key/value file (and, when DropinDir is set, the *.conf
// files of that include directory, which win over the main file in name order).
// Delimiter is "=" (whitespace around it allowed) or " " (any whitespace). An empty
// Expected asks only that the key be present (a bare flag such as even_deny_root).
type ConfigValue struct {
	Path       string `yaml:"path"`
	DropinDir  string `yaml:"dropin_dir,omitempty"`
	Key        string `yaml:"key"`
	Expected   string `yaml:"expected"`
	Comparator string `yaml:"comparator,omitempty"`
	Delimiter  string `yaml:"delimiter,omitempty"`
	// CaseInsensitive compares values without regard to case (keys always are).
	CaseInsensitive bool `yaml:"case_insensitive,omitempty"`
}

// SSHDConfig checks a keyword of sshd's effective configuration (sshd -T, the settings
// a connection without Match criteria gets). Key is lower case as sshd -T prints it.
type SSHDConfig struct {
	Key        string `yaml:"key"`
	Expected   string `yaml:"expected"`
	Comparator string `yaml:"comparator,omitempty"`
}

// Sysctl checks a kernel parameter both at runtime and in the persisted configuration
// (the value systemd-sysctl would apply at boot).
type Sysctl struct {
	Key      string `yaml:"key"`
	Expected string `yaml:"expected"`
}

// PackageState checks that a package is installed (present) or not (absent), through
// dpkg or rpm, whichever the host has.
type PackageState struct {
	Name  string `yaml:"name"`
	State string `yaml:"state"` // present or absent
}

// ServiceState checks a systemd unit. Unset fields are not checked. A unit that does not
// exist is neither enabled nor active (and not masked).
type ServiceState struct {
	Name    string `yaml:"name"`
	Enabled *bool  `yaml:"enabled,omitempty"`
	Active  *bool  `yaml:"active,omitempty"`
	Masked  *bool  `yaml:"masked,omitempty"`
}

// KernelModule checks that a module cannot be loaded: "disabled" means modprobe would run
// /bin/false or /bin/true instead of loading it; "blacklisted" means that and a blacklist
// entry. Either way the module must not be loaded now.
type KernelModule struct {
	Name  string `yaml:"name"`
	State string `yaml:"state"` // disabled or blacklisted
}

// MountOption checks that a mount point, when it is a separate mount, carries every
// option. A mount point that is not a separate mount is not applicable (skipped).
type MountOption struct {
	MountPoint string   `yaml:"mount_point"`
	Options    []string `yaml:"options"`
}

// FilePermission checks a path's mode (no permission bit beyond Mode), owner and group.
// Unset fields are not checked. A path that does not exist is not applicable.
type FilePermission struct {
	Path  string `yaml:"path"`
	Mode  string `yaml:"mode,omitempty"`
	Owner string `yaml:"owner,omitempty"`
	Group string `yaml:"group,omitempty"`
}

// FileTree checks every directory or file (Type) below Roots, the roots included: no
// permission bit (of 0777) beyond Mode, owner Owner, group Group, group id at most MaxGID;
// unset fields are not checked. MaxDepth (0: unlimited) bounds the descent, as find's
// -maxdepth; FollowSymlinks follows links below the roots (find -L); SameFilesystem stays
// on each root's filesystem; ExcludeNames are name patterns (shell globs) left out. Roots
// that do not exist or are links (on a merged /usr, /bin is /usr/bin) are left out; none
// left is not applicable.
// Root runs the walk with root, for trees only root may read. The checks of one walk
// (same roots, type, depth, links, filesystem, exclusions and Root) share one find on the
// target, however many rules read it.
type FileTree struct {
	Roots          []string `yaml:"roots"`
	Type           string   `yaml:"type"`
	MaxDepth       int      `yaml:"max_depth,omitempty"`
	FollowSymlinks bool     `yaml:"follow_symlinks,omitempty"`
	SameFilesystem bool     `yaml:"same_filesystem,omitempty"`
	ExcludeNames   []string `yaml:"exclude_names,omitempty"`
	Mode           string   `yaml:"mode,omitempty"`
	Owner          string   `yaml:"owner,omitempty"`
	Group          string   `yaml:"group,omitempty"`
	MaxGID         *int     `yaml:"max_gid,omitempty"`
	Root           bool     `yaml:"root,omitempty"`
}

// FileExists checks that a path exists (or, with Exists false, that it does not).
type FileExists struct {
	Path   string `yaml:"path"`
	Exists *bool  `yaml:"exists,omitempty"`
}

// FileContent checks a file's content: equal to Expected (ignoring surrounding
// whitespace), or matching the regular expression Matches (RE2, multi-line).
type FileContent struct {
	Path     string `yaml:"path"`
	Expected string `yaml:"expected,omitempty"`
	Matches  string `yaml:"matches,omitempty"`
}

// AuditRule checks an audit rule both loaded in the kernel (auditctl -l) and persisted
// (/etc/audit/rules.d). Rules compare by meaning: field order, the key name, the spelling
// of unset (-1, 4294967295) and the order of the syscall list do not matter. A rule of
// the form "-k NAME" asks only that some rule carry that key.
type AuditRule struct {
	Rule string `yaml:"rule"`
}

// GrubParameter checks a kernel command-line parameter both on the running kernel
// (/proc/cmdline) and in the boot loader configuration. An empty Expected asks only that
// the parameter be present.
type GrubParameter struct {
	Key      string `yaml:"key"`
	Expected string `yaml:"expected"`
}

// SELinuxState checks SELinux's current mode (Enforcing, Permissive or Disabled).
type SELinuxState struct {
	State string `yaml:"state"`
}

// AppArmorState checks that AppArmor is enabled and that no loaded profile is in
// complain mode when Enforce is set.
type AppArmorState struct {
	Enforce bool `yaml:"enforce,omitempty"`
}

// SystemdTarget checks the default boot target: equal to Expected, or different from
// NotExpected.
type SystemdTarget struct {
	Expected    string `yaml:"expected,omitempty"`
	NotExpected string `yaml:"not_expected,omitempty"`
}

// Command runs a POSIX sh script and compares its exit status and output. It is the last
// resort, for what no typed method can express: Reason says why.
type Command struct {
	Script     string `yaml:"script"`
	ExitStatus *int   `yaml:"exit_status,omitempty"`
	// Output is a regular expression (RE2) the standard output must match.
	Output string `yaml:"output,omitempty"`
	// SkipStatus is the exit status by which the script says the rule does not apply to
	// the host (what it checks is not there); the result is skipped with the script's
	// first line of output as the reason, never a pass.
	SkipStatus *int `yaml:"skip_status,omitempty"`
	// Root says the script needs root; without it the result is an error, not a fail.
	Root   bool   `yaml:"root,omitempty"`
	Reason string `yaml:"reason"`
}

// walk calls fn for every typed check, descending into composites.
func (c *Check) walk(fn func(*Check)) {
	if c.AllOf != nil {
		for i := range c.AllOf {
			c.AllOf[i].walk(fn)
		}
		return
	}
	fn(c)
}

// Walk calls fn for every typed check of c, descending into composites.
func (c *Check) Walk(fn func(*Check)) { c.walk(fn) }

// strings returns every string parameter of a typed check, for variable references.
func (c *Check) strings() []string {
	var out []string
	v := reflect.ValueOf(c.Params).Elem()
	for i := range v.NumField() {
		f := v.Field(i)
		switch f.Kind() {
		case reflect.String:
			out = append(out, f.String())
		case reflect.Slice:
			if f.Type().Elem().Kind() == reflect.String {
				for j := range f.Len() {
					out = append(out, f.Index(j).String())
				}
			}
		}
	}
	return out
}

// validate checks a typed check's parameters beyond their types.
func (c *Check) validate() error {
	need := func(name, v string) error {
		if strings.TrimSpace(v) == "" {
			return fmt.Errorf("%s: %s is required", c.Method, name)
		}
		return nil
	}
	oneOf := func(name, v string, allowed ...string) error {
		if !slices.Contains(allowed, v) {
			return fmt.Errorf("%s: %s %q is not one of %s", c.Method, name, v, strings.Join(allowed, ", "))
		}
		return nil
	}
	absolute := func(name, v string) error {
		if !strings.HasPrefix(v, "/") || strings.Contains(v, "\n") {
			return fmt.Errorf("%s: %s %q is not an absolute path", c.Method, name, v)
		}
		return nil
	}
	comparator := func(v string) error {
		if v == "" {
			return nil
		}
		return oneOf("comparator", v, Comparators...)
	}
	switch p := c.Params.(type) {
	case *ConfigValue:
		return firstErr(absolute("path", p.Path), need("key", p.Key), comparator(p.Comparator),
			optional(p.DropinDir, func() error { return absolute("dropin_dir", p.DropinDir) }),
			optional(p.Delimiter, func() error { return oneOf("delimiter", p.Delimiter, "=", " ") }))
	case *SSHDConfig:
		if p.Key != strings.ToLower(p.Key) {
			return fmt.Errorf("%s: key %q must be lower case, as sshd -T prints it", c.Method, p.Key)
		}
		return firstErr(need("key", p.Key), need("expected", p.Expected), comparator(p.Comparator))
	case *Sysctl:
		return firstErr(need("key", p.Key), need("expected", p.Expected))
	case *PackageState:
		return firstErr(need("name", p.Name), oneOf("state", p.State, "present", "absent"))
	case *ServiceState:
		if p.Enabled == nil && p.Active == nil && p.Masked == nil {
			return fmt.Errorf("%s: at least one of enabled, active, masked is required", c.Method)
		}
		return need("name", p.Name)
	case *KernelModule:
		return firstErr(need("name", p.Name), oneOf("state", p.State, "disabled", "blacklisted"))
	case *MountOption:
		if len(p.Options) == 0 {
			return fmt.Errorf("%s: options is required", c.Method)
		}
		return absolute("mount_point", p.MountPoint)
	case *FilePermission:
		if p.Mode == "" && p.Owner == "" && p.Group == "" {
			return fmt.Errorf("%s: at least one of mode, owner, group is required", c.Method)
		}
		if p.Mode != "" && !modePattern.MatchString(p.Mode) {
			return fmt.Errorf("%s: mode %q is not an octal mode such as 0640", c.Method, p.Mode)
		}
		return absolute("path", p.Path)
	case *FileTree:
		return validateFileTree(c.Method, p)
	case *FileExists:
		return absolute("path", p.Path)
	case *FileContent:
		if (p.Expected == "") == (p.Matches == "") {
			return fmt.Errorf("%s: exactly one of expected, matches is required", c.Method)
		}
		if p.Matches != "" {
			if _, err := regexp.Compile(p.Matches); err != nil {
				return fmt.Errorf("%s: matches: %v", c.Method, err)
			}
		}
		return absolute("path", p.Path)
	case *AuditRule:
		f := strings.Fields(p.Rule)
		switch {
		case len(f) == 2 && f[0] == "-k":
		case len(f) >= 2 && (f[0] == "-a" || f[0] == "-w"):
		default:
			return fmt.Errorf("%s: rule %q is neither a syscall rule (-a ...), a watch (-w ...) nor a key (-k NAME)", c.Method, p.Rule)
		}
		return nil
	case *GrubParameter:
		return need("key", p.Key)
	case *SELinuxState:
		return oneOf("state", p.State, "Enforcing", "Permissive", "Disabled")
	case *AppArmorState:
		return nil
	case *SystemdTarget:
		if (p.Expected == "") == (p.NotExpected == "") {
			return fmt.Errorf("%s: exactly one of expected, not_expected is required", c.Method)
		}
		return nil
	case *Command:
		if p.ExitStatus == nil && p.Output == "" {
			return fmt.Errorf("%s: at least one of exit_status, output is required", c.Method)
		}
		if p.SkipStatus != nil && p.ExitStatus != nil && *p.SkipStatus == *p.ExitStatus {
			return fmt.Errorf("%s: skip_status cannot be the passing exit_status", c.Method)
		}
		if p.Output != "" {
			if _, err := regexp.Compile(p.Output); err != nil {
				return fmt.Errorf("%s: output: %v", c.Method, err)
			}
		}
		return firstErr(need("script", p.Script), need("reason", p.Reason))
	}
	return fmt.Errorf("unknown check method %q", c.Method)
}

var modePattern = regexp.MustCompile(`^0?[0-7]{3,4}$`)

// namePattern is what a file_tree owner, group or excluded name may be: the walk is
// shell text built from them, so nothing a shell or find would read specially.
var namePattern = regexp.MustCompile(`^[A-Za-z0-9_.*?\[\]-]+$`)

func validateFileTree(method string, p *FileTree) error {
	if p.Mode == "" && p.Owner == "" && p.Group == "" && p.MaxGID == nil {
		return fmt.Errorf("%s: at least one of mode, owner, group, max_gid is required", method)
	}
	if len(p.Roots) == 0 {
		return fmt.Errorf("%s: roots is required", method)
	}
	for _, r := range p.Roots {
		if !strings.HasPrefix(r, "/") || strings.ContainsAny(r, "'\n{}") {
			return fmt.Errorf("%s: root %q is not an absolute path without quotes or braces (variables do not apply here)", method, r)
		}
	}
	if p.Type != "directory" && p.Type != "file" {
		return fmt.Errorf("%s: type %q is not one of directory, file", method, p.Type)
	}
	if p.MaxDepth < 0 {
		return fmt.Errorf("%s: max_depth cannot be negative", method)
	}
	if p.MaxGID != nil && *p.MaxGID < 0 {
		return fmt.Errorf("%s: max_gid cannot be negative", method)
	}
	if p.Mode != "" && !modePattern.MatchString(p.Mode) {
		return fmt.Errorf("%s: mode %q is not an octal mode such as 0640", method, p.Mode)
	}
	for _, f := range []struct{ field, v string }{{"owner", p.Owner}, {"group", p.Group}} {
		field, v := f.field, f.v
		if v != "" && (!namePattern.MatchString(v) || strings.ContainsAny(v, "*?[]")) {
			return fmt.Errorf("%s: %s %q is not a user or group name", method, field, v)
		}
	}
	for _, n := range p.ExcludeNames {
		if !namePattern.MatchString(n) {
			return fmt.Errorf("%s: exclude_names: %q is not a name pattern", method, n)
		}
	}
	return nil
}

func optional(v string, fn func() error) error {
	if v == "" {
		return nil
	}
	return fn()
}

func firstErr(errs ...error) error {
	for _, err := range errs {
		if err != nil {
			return err
		}
	}
	return nil
}
