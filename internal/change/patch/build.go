package patch

import (
	"fmt"
	"strings"

	"github.com/openwatch/openwatch/internal/apperr"
	"github.com/openwatch/openwatch/internal/change"
)

// LockWaitSeconds is how long apt waits for another package manager's lock before
// failing.
const LockWaitSeconds = 300

// lockWait is LockWaitSeconds spliced into the constant scripts (a test keeps them equal).
const lockWait = "300"

// Action kinds of patch operations.
const (
	KindSecurity = "patch_security"
	KindAll      = "patch_all"
	KindPackages = "patch_packages"
)

// scripts are an action's four scripts.
type scripts struct{ capture, preview, apply, restore string }

// detect picks the package manager on the host when the planner does not know it.
const detect = `if command -v apt-get >/dev/null 2>&1 && command -v dpkg-query >/dev/null 2>&1; then ow_pm=apt
elif command -v dnf >/dev/null 2>&1 || command -v yum >/dev/null 2>&1; then ow_pm=dnf
else echo "patch: neither apt nor dnf (or yum) is on this host" >&2; exit 1
fi
`

// Build validates spec and returns the action that carries it out on h: one package
// manager transaction. h.PackageManager "apt" or "dnf" picks the scripts; "" makes
// every script detect the package manager on the host. Errors are validation_failed.
// The action's Reboot is left unset: whether the update needs a reboot is known only
// after Apply, from RebootRequiredCommand.
func Build(spec Spec, h change.Host) ([]change.Action, error) {
	if err := spec.Validate(); err != nil {
		return nil, err
	}
	var s scripts
	switch h.PackageManager {
	case "apt":
		s = aptScripts(spec)
	case "dnf", "yum":
		s = dnfScripts(spec)
	case "":
		a, d := aptScripts(spec), dnfScripts(spec)
		s = scripts{
			capture: either(a.capture, d.capture),
			preview: previewScript,
			apply:   either(a.apply, d.apply),
			restore: either(a.restore, d.restore),
		}
	default:
		return nil, apperr.Invalid("package_manager", fmt.Sprintf("Patching supports apt and dnf hosts, not %q.", h.PackageManager))
	}
	a := change.Action{
		Capture: s.capture,
		Preview: s.preview,
		Apply:   s.apply,
		Restore: s.restore,
	}
	switch spec.Mode {
	case ModeSecurity:
		a.Kind, a.Target, a.Summary = KindSecurity, "packages", "Apply the pending security updates"
	case ModeAll:
		a.Kind, a.Target, a.Summary = KindAll, "packages", "Apply all pending package updates"
	default:
		a.Kind, a.Target, a.Summary = KindPackages, targets(spec.Packages), summary(spec.Packages)
	}
	if h.Name != "" {
		a.Summary += " on " + h.Name
	}
	return []change.Action{a}, nil
}

// either runs the apt script on apt hosts and the dnf one elsewhere.
func either(apt, dnf string) string {
	return detect + "if [ \"$ow_pm\" = apt ]; then\n(\n" + apt + "\n)\nelse\n(\n" + dnf + "\n)\nfi\n"
}

func targets(ops []PackageOp) string {
	names := make([]string, len(ops))
	for i, p := range ops {
		names[i] = p.Name
	}
	return strings.Join(names, ", ")
}

func summary(ops []PackageOp) string {
	parts := make([]string, len(ops))
	for i, p := range ops {
		parts[i] = string(p.Op) + " " + p.Name
		if p.Version != "" {
			parts[i] += " " + p.Version
		}
	}
	s := strings.Join(parts, ", ")
	return strings.ToUpper(s[:1]) + s[1:]
}
