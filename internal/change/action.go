package change

import (
	"encoding/base64"
	"fmt"
	"strings"
)

// Action is one declarative change to a host, expressed as POSIX sh scripts the machinery
// runs as root over SSH. Remediation mechanisms and patch operations build actions; the
// machinery runs them the same way:
//
//  1. Capture prints, on stdout, the prior state of everything Apply may touch (file
//     contents and modes, package versions, unit and sysctl state). It changes nothing.
//     Its output is text (binary content base64-encoded), at most MaxPriorBytes; it is
//     stored before Apply runs, so a crash after Apply can still be rolled back.
//  2. Preview prints what Apply would change (a unified diff, or one line per change), and
//     changes nothing: the dry run. It may read the captured state from "$OW_PRIOR".
//  3. Apply makes the change; a non-zero exit fails the action (and later ones are not
//     run). Apply must be idempotent: running it on a host already in the wanted state
//     changes nothing and exits 0.
//  4. Restore puts back exactly the state Capture printed, which it reads from the file
//     named by "$OW_PRIOR". It must succeed whether Apply ran fully, partly or not at all.
//
// Scripts run in their own subshell with stdin from /dev/null, under `set -u` is not
// assumed; they must not rely on state left by another action's script.
type Action struct {
	// Kind is the mechanism or operation: "sysctl_set", "config_set", "apt_upgrade", ...
	Kind string `json:"kind"`
	// Summary is the plan's line for a person: what exactly changes, where, to what.
	Summary string `json:"summary"`
	// Target is what the action touches: a path, a package, a unit, a parameter.
	Target string `json:"target"`
	// Capture, Preview, Apply and Restore are the scripts described above.
	Capture string `json:"capture"`
	Preview string `json:"preview"`
	Apply   string `json:"apply"`
	Restore string `json:"restore"`
	// RuleID is the rule a remediation action fixes ("" for a patch operation).
	RuleID string `json:"rule_id,omitempty"`
	// Reboot is set when Apply's change takes effect only after a reboot (a kernel, a
	// boot parameter); the job's reboot policy decides.
	Reboot bool `json:"reboot,omitempty"`
}

// PriorVar is the variable that names, in Preview and Restore, the file holding the
// state Capture printed.
const PriorVar = "OW_PRIOR"

// MaxPriorBytes bounds one action's captured state. A change whose prior state is larger
// (a huge file) is refused before anything changes: it could not be rolled back.
const MaxPriorBytes = 48 << 10

// WithPrior wraps script (a Preview or Restore) so that it runs with "$OW_PRIOR" naming
// a temporary file that holds prior, removed afterwards; the wrapper exits with the
// script's status.
func WithPrior(script, prior string) string {
	var b strings.Builder
	b.WriteString("OW_PRIOR=$(mktemp) || exit 1\n")
	fmt.Fprintf(&b, "printf '%%s' '%s' | base64 -d > \"$OW_PRIOR\" || { rm -f \"$OW_PRIOR\"; exit 1; }\n",
		base64.StdEncoding.EncodeToString([]byte(prior)))
	b.WriteString("export OW_PRIOR\n(\n")
	b.WriteString(script)
	b.WriteString("\n)\now_rc=$?\nrm -f \"$OW_PRIOR\"\nexit $ow_rc\n")
	return b.String()
}

// Host is what a planner knows of a target when it builds actions.
type Host struct {
	Name string
	// Family and Version identify the operating system ("debian" "12", "rhel" "9").
	Family  string
	Version string
	// PackageManager is "apt" or "dnf" (or "" when unknown).
	PackageManager string
}

// Quote returns s as one single-quoted POSIX sh word.
func Quote(s string) string {
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}
