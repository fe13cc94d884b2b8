package patch

import (
	"fmt"
	"regexp"

	"github.com/openwatch/openwatch/internal/apperr"
)

// Mode says which packages a patch operation changes.
type Mode string

// The modes of a patch operation.
const (
	// ModeSecurity applies the pending security updates only.
	ModeSecurity Mode = "security"
	// ModeAll applies every pending update (apt: upgrade --with-new-pkgs, which never
	// removes a package; dnf: upgrade).
	ModeAll Mode = "all"
	// ModePackages applies the named package operations.
	ModePackages Mode = "packages"
)

// Op is what a named package operation does.
type Op string

// The named package operations.
const (
	// OpInstall makes the package installed (at Version when given); an installed
	// package without a Version is left as it is.
	OpInstall Op = "install"
	// OpUpgrade upgrades an installed package to Version, or to the newest available;
	// a package that is not installed is skipped with a note.
	OpUpgrade Op = "upgrade"
	// OpRemove removes the package (its configuration files stay).
	OpRemove Op = "remove"
	// OpHold holds the package at its version: updates leave it alone.
	OpHold Op = "hold"
	// OpUnhold releases a hold.
	OpUnhold Op = "unhold"
)

// PackageOp is one named package operation.
type PackageOp struct {
	Name string `json:"name"`
	Op   Op     `json:"op"`
	// Version is optional, and only for install and upgrade: a version as the
	// package manager writes it ("1.1", "1:2.0-3", "2.0-3.el9").
	Version string `json:"version,omitempty"`
}

// Spec is a patch operation.
type Spec struct {
	Mode Mode `json:"mode"`
	// Packages are the named operations, for ModePackages only; one per package.
	Packages []PackageOp `json:"packages,omitempty"`
}

// MaxPackages bounds the named operations of one Spec.
const MaxPackages = 200

var (
	// packageName accepts Debian and RPM package names, with an optional
	// architecture qualifier (name:arch).
	packageName = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9+._-]{0,127}(:[a-z0-9_-]{1,32})?$`)
	// packageVersion accepts Debian and RPM versions, epoch included.
	packageVersion = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9.+~:_-]{0,127}$`)
)

// Validate checks the spec; it returns a validation_failed apperr naming the field
// ("mode", "packages", "packages[2].name", ...).
func (s Spec) Validate() error {
	switch s.Mode {
	case ModeSecurity, ModeAll:
		if len(s.Packages) > 0 {
			return apperr.Invalid("packages", fmt.Sprintf("Packages are named only with mode %q, not %q.", ModePackages, s.Mode))
		}
		return nil
	case ModePackages:
	default:
		return apperr.Invalid("mode", fmt.Sprintf("mode must be %q, %q or %q.", ModeSecurity, ModeAll, ModePackages))
	}
	if len(s.Packages) == 0 {
		return apperr.Invalid("packages", "Mode packages needs at least one package operation.")
	}
	if len(s.Packages) > MaxPackages {
		return apperr.Invalid("packages", fmt.Sprintf("At most %d package operations fit in one patch operation.", MaxPackages))
	}
	seen := make(map[string]bool, len(s.Packages))
	for i, p := range s.Packages {
		field := fmt.Sprintf("packages[%d]", i)
		if !packageName.MatchString(p.Name) {
			return apperr.Invalid(field+".name", fmt.Sprintf("%q is not a package name (letters, digits and + . _ -, optionally :arch).", p.Name))
		}
		if seen[p.Name] {
			return apperr.Invalid(field+".name", fmt.Sprintf("Package %q is named twice; give one operation per package.", p.Name))
		}
		seen[p.Name] = true
		switch p.Op {
		case OpInstall, OpUpgrade:
			if p.Version != "" && !packageVersion.MatchString(p.Version) {
				return apperr.Invalid(field+".version", fmt.Sprintf("%q is not a package version.", p.Version))
			}
		case OpRemove, OpHold, OpUnhold:
			if p.Version != "" {
				return apperr.Invalid(field+".version", fmt.Sprintf("A version is given only to install or upgrade, not to %s.", p.Op))
			}
		default:
			return apperr.Invalid(field+".op", "op must be install, upgrade, remove, hold or unhold.")
		}
	}
	return nil
}
