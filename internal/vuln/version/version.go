// Package version orders package versions the way each distribution's package manager
// does: dpkg ordering (Debian, Ubuntu) and rpm ordering (Red Hat, AlmaLinux, Rocky
// Linux). It wraps well-kept libraries (the orderings Trivy uses) behind one Compare, so
// matching code names an ecosystem and never a library.
package version

import (
	"fmt"
	"strings"

	debversion "github.com/knqyf263/go-deb-version"
	rpmversion "github.com/knqyf263/go-rpm-version"
)

// Scheme is a version ordering.
type Scheme int

// The schemes.
const (
	Unknown Scheme = iota
	Dpkg
	Rpm
)

// SchemeOf returns the ordering of an OSV ecosystem such as "Debian:12",
// "Ubuntu:22.04:LTS", "Red Hat:enterprise_linux:9", "AlmaLinux:9" or "Rocky Linux:9".
func SchemeOf(ecosystem string) Scheme {
	base, _, _ := strings.Cut(ecosystem, ":")
	switch base {
	case "Debian", "Ubuntu":
		return Dpkg
	case "Red Hat", "AlmaLinux", "Rocky Linux", "openSUSE", "SUSE", "Mageia":
		return Rpm
	}
	return Unknown
}

// Compare orders a and b in the ecosystem's scheme: negative when a < b, zero when equal,
// positive when a > b. Errors: an ecosystem with no known ordering, or a version that is
// not valid in a scheme that validates (dpkg).
func Compare(ecosystem, a, b string) (int, error) {
	switch SchemeOf(ecosystem) {
	case Dpkg:
		return CompareDpkg(a, b)
	case Rpm:
		return CompareRpm(a, b), nil
	}
	return 0, fmt.Errorf("compare versions: no ordering for ecosystem %q", ecosystem)
}

// CompareDpkg orders two Debian versions as dpkg --compare-versions does.
func CompareDpkg(a, b string) (int, error) {
	va, err := debversion.NewVersion(a)
	if err != nil {
		return 0, fmt.Errorf("parse dpkg version %q: %w", a, err)
	}
	vb, err := debversion.NewVersion(b)
	if err != nil {
		return 0, fmt.Errorf("parse dpkg version %q: %w", b, err)
	}
	return va.Compare(vb), nil
}

// CompareRpm orders two rpm EVR strings ([epoch:]version[-release]) as rpmvercmp does.
func CompareRpm(a, b string) int {
	va := rpmversion.NewVersion(a)
	vb := rpmversion.NewVersion(b)
	return va.Compare(vb)
}

// Valid reports whether v is a version the ecosystem's scheme accepts.
func Valid(ecosystem, v string) bool {
	if v == "" {
		return false
	}
	switch SchemeOf(ecosystem) {
	case Dpkg:
		return debversion.Valid(v)
	case Rpm:
		return true
	}
	return false
}
