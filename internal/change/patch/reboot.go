package patch

import (
	"fmt"
	"strings"
)

// RebootRequiredCommand returns a script that tells whether the host needs a reboot to
// finish its updates; it changes nothing. Its output, read by ParseRebootRequired, is
// one line "reboot-required: yes|no|unknown", then "package: NAME" lines for the
// packages that asked for it when the host says (Debian's
// /var/run/reboot-required.pkgs). Debian and Ubuntu: /var/run/reboot-required; RHEL
// and kin: needs-restarting -r (exit 1 means a reboot is needed).
func RebootRequiredCommand() string {
	return `if [ -f /var/run/reboot-required ]; then
	echo "reboot-required: yes"
	if [ -f /var/run/reboot-required.pkgs ]; then sort -u /var/run/reboot-required.pkgs | sed -n 's/^\([^ ][^ ]*\)$/package: \1/p'; fi
elif [ -x /usr/bin/dpkg ] || [ -x /bin/dpkg ]; then
	echo "reboot-required: no"
else
	if command -v needs-restarting >/dev/null 2>&1; then
		needs-restarting -r >/dev/null 2>&1
	elif command -v dnf >/dev/null 2>&1; then
		dnf -q needs-restarting -r >/dev/null 2>&1
	else
		(exit 2)
	fi
	case $? in
	0) echo "reboot-required: no" ;;
	1) echo "reboot-required: yes" ;;
	*) echo "reboot-required: unknown" ;;
	esac
fi
`
}

// RebootStatus is what RebootRequiredCommand found.
type RebootStatus struct {
	// Known is false when the host could not tell (no needs-restarting).
	Known bool
	// Required is true when the host needs a reboot.
	Required bool
	// Packages are the packages that asked for the reboot, when the host lists them.
	Packages []string
}

// ParseRebootRequired reads RebootRequiredCommand's output.
func ParseRebootRequired(out string) (RebootStatus, error) {
	var st RebootStatus
	found := false
	for _, line := range strings.Split(out, "\n") {
		key, value, ok := strings.Cut(strings.TrimSpace(line), ":")
		if !ok {
			continue
		}
		value = strings.TrimSpace(value)
		switch key {
		case "reboot-required":
			switch value {
			case "yes":
				st.Known, st.Required = true, true
			case "no":
				st.Known = true
			case "unknown":
			default:
				return RebootStatus{}, fmt.Errorf("parse reboot status: unknown answer %q", value)
			}
			found = true
		case "package":
			if value != "" {
				st.Packages = append(st.Packages, value)
			}
		}
	}
	if !found {
		return RebootStatus{}, fmt.Errorf("parse reboot status: no reboot-required line in %q", out)
	}
	return st, nil
}
