package patch

import (
	"fmt"
	"strings"

	"github.com/openwatch/openwatch/internal/change"
)

// dnfPrelude defines the helpers every dnf script uses. dnf waits for another
// instance's lock by itself; rpm keeps modified configuration files (.rpmnew).
const dnfPrelude = `export LC_ALL=C
ow_dnf=dnf
command -v dnf >/dev/null 2>&1 || ow_dnf=yum
ow_installed() {
	ow_v=$(rpm -q --qf '%|EPOCH?{%{EPOCH}:}:{}|%{VERSION}-%{RELEASE}\n' "$1" 2>/dev/null) && printf '%s\n' "$ow_v" | tail -n 1
}
ow_held() {
	$ow_dnf -q versionlock list 2>/dev/null | awk -v n="$1-" '{ sub(/^[0-9]+:/, "") } index($0, n) == 1 && substr($0, length(n) + 1, 1) ~ /[0-9]/ { f = 1 } END { exit !f }'
}
ow_candidate() {
	$ow_dnf -q repoquery --latest-limit 1 --qf '%{epoch}:%{version}-%{release}' "$1" 2>/dev/null | tail -n 1 | sed 's/^0://'
}
ow_update() {
	ow_out=$($ow_dnf -q -y makecache 2>&1) || {
		printf '%s\n' "$ow_out" | tail -n 20 >&2
		echo "patch: $ow_dnf makecache failed: the package metadata could not be refreshed" >&2
		return 1
	}
}
`

// dnfPlanUpdates is the plan of ModeAll and ModeSecurity: ow_sel is "" or "--security".
const dnfPlanUpdates = `ow_plan() {
	ow_hold=; ow_unhold=; ow_install=; ow_upgrade=; ow_remove=
	ow_list=$($ow_dnf -q $ow_sel check-update 2>&1)
	ow_c=$?
	if [ $ow_c -ne 0 ] && [ $ow_c -ne 100 ]; then
		printf '%s\n' "$ow_list" | tail -n 20 >&2
		echo "patch: $ow_dnf check-update failed (exit $ow_c)" >&2
		return 1
	fi
	ow_records=$(printf '%s\n' "$ow_list" | awk 'NF == 3 && $1 ~ /\./ && $2 ~ /[0-9]/ { n = $1; sub(/\.[^.]*$/, "", n); print n, $2 }' | sort -u)
	ow_upgrade=$(printf '%s\n' "$ow_records" | awk 'NF { print $1 }' | tr '\n' ' ')
	return 0
}
`

const dnfPlanPackagesHead = `ow_op() {
	ow_cur=$(ow_installed "$2")
	ow_to=
	case $1 in
	install)
		if [ -z "$ow_cur" ]; then
			ow_install="$ow_install $2${3:+-$3}"; ow_to=${3:-$(ow_candidate "$2")}
		elif [ -n "$3" ] && [ "$ow_cur" != "$3" ]; then
			ow_install="$ow_install $2-$3"; ow_to=$3
		fi ;;
	upgrade)
		if [ -z "$ow_cur" ]; then
			echo "patch: $2 is not installed: nothing to upgrade" >&2
		elif [ -n "$3" ]; then
			if [ "$ow_cur" != "$3" ]; then ow_upgrade="$ow_upgrade $2-$3"; ow_to=$3; fi
		else
			ow_c=$(ow_candidate "$2")
			if [ -n "$ow_c" ] && [ "$ow_c" != "$ow_cur" ]; then ow_upgrade="$ow_upgrade $2"; ow_to=$ow_c; fi
		fi ;;
	remove)
		if [ -n "$ow_cur" ]; then ow_remove="$ow_remove $2"; ow_to=-; fi ;;
	hold)
		ow_held "$2" || ow_hold="$ow_hold $2" ;;
	unhold)
		if ow_held "$2"; then ow_unhold="$ow_unhold $2"; fi ;;
	esac
	if [ -n "$ow_to" ]; then
		if ow_held "$2"; then
			echo "patch: $2 is held (versionlock): unhold it before changing it" >&2
			ow_fail=1
		fi
		ow_records="$ow_records
$2 $ow_to"
	fi
	return 0
}
ow_plan() {
	ow_hold=; ow_unhold=; ow_install=; ow_upgrade=; ow_remove=; ow_records=; ow_fail=
`

const dnfPlanPackagesTail = `	if [ -n "$ow_fail" ]; then return 1; fi
	return 0
}
`

// dnfCapture prints a record per package the plan changes or holds.
const dnfCapture = `ow_update || exit 1
ow_plan || exit 1
echo "# openwatch patch prior state v1 dnf: pkg NAME BEFORE BEFORE_HELD AFTER AFTER_HELD"
printf '%s\n' "$ow_records" | while read -r ow_n ow_to; do
	[ -n "$ow_n" ] || continue
	ow_cur=$(ow_installed "$ow_n")
	if ow_held "$ow_n"; then ow_h=1; else ow_h=0; fi
	echo "pkg $ow_n ${ow_cur:--} $ow_h $ow_to $ow_h"
done
for ow_p in $ow_hold; do ow_cur=$(ow_installed "$ow_p"); echo "pkg $ow_p ${ow_cur:--} 0 ${ow_cur:--} 1"; done
for ow_p in $ow_unhold; do ow_cur=$(ow_installed "$ow_p"); echo "pkg $ow_p ${ow_cur:--} 1 ${ow_cur:--} 0"; done
`

const dnfApply = `ow_update || exit 1
ow_plan || exit 1
ow_run() {
	$ow_dnf -y "$@"
	ow_c=$?
	if [ $ow_c -ne 0 ]; then echo "patch: $ow_dnf $* failed (exit $ow_c)" >&2; exit 1; fi
}
if [ -n "$ow_all" ]; then
	ow_run $ow_sel upgrade
else
	if [ -n "$ow_remove" ]; then ow_run remove $ow_remove; fi
	if [ -n "$ow_install" ]; then ow_run install $ow_install; fi
	if [ -n "$ow_upgrade" ]; then ow_run upgrade $ow_upgrade; fi
fi
if [ -n "$ow_hold" ]; then ow_run versionlock add $ow_hold; fi
if [ -n "$ow_unhold" ]; then ow_run versionlock delete $ow_unhold; fi
exit 0
`

// dnfRestore downgrades (or reinstalls) each recorded package to its captured version,
// removes what was absent, and restores versionlocks.
const dnfRestore = `ow_down=; ow_inst=; ow_rm=; ow_missing=; ow_hold=; ow_unhold=; ow_rc=0
while read -r ow_k ow_n ow_b ow_bh ow_a ow_ah; do
	[ "$ow_k" = pkg ] || continue
	ow_cur=$(ow_installed "$ow_n")
	if [ "$ow_b" = - ]; then
		if [ -n "$ow_cur" ]; then ow_rm="$ow_rm $ow_n"; fi
	elif [ "$ow_cur" != "$ow_b" ]; then
		if $ow_dnf -q list --showduplicates "$ow_n-$ow_b" >/dev/null 2>&1; then
			if [ -n "$ow_cur" ]; then ow_down="$ow_down $ow_n-$ow_b"; else ow_inst="$ow_inst $ow_n-$ow_b"; fi
		else
			ow_missing="$ow_missing
  $ow_n $ow_b (it stays at ${ow_cur:-not installed})"
		fi
	fi
	if [ "$ow_bh" = 1 ]; then
		ow_held "$ow_n" || ow_hold="$ow_hold $ow_n"
	elif ow_held "$ow_n"; then
		ow_unhold="$ow_unhold $ow_n"
	fi
done < "$OW_PRIOR"
ow_try() {
	$ow_dnf -y "$@"
	ow_c=$?
	if [ $ow_c -ne 0 ]; then echo "patch: restore failed: $ow_dnf $* exited $ow_c" >&2; ow_rc=1; fi
}
if [ -n "$ow_unhold" ]; then ow_try versionlock delete $ow_unhold; fi
if [ -n "$ow_down" ]; then ow_try downgrade $ow_down; fi
if [ -n "$ow_inst" ]; then ow_try install $ow_inst; fi
if [ -n "$ow_rm" ]; then ow_try remove $ow_rm; fi
if [ -n "$ow_hold" ]; then ow_try versionlock add $ow_hold; fi
if [ -n "$ow_missing" ]; then
	echo "patch: cannot restore these versions: they are no longer available from the enabled repositories:$ow_missing" >&2
	exit 1
fi
exit $ow_rc
`

// dnfScripts returns the four scripts for spec on a dnf (or yum) host.
func dnfScripts(spec Spec) scripts {
	plan := dnfPlan(spec)
	return scripts{
		capture: dnfPrelude + plan + dnfCapture,
		preview: previewScript,
		apply:   dnfPrelude + plan + dnfApply,
		restore: dnfPrelude + dnfRestore,
	}
}

func dnfPlan(spec Spec) string {
	switch spec.Mode {
	case ModeAll:
		return "ow_sel=; ow_all=1\n" + dnfPlanUpdates
	case ModeSecurity:
		return "ow_sel=--security; ow_all=1\n" + dnfPlanUpdates
	}
	var b strings.Builder
	b.WriteString("ow_sel=; ow_all=\n")
	b.WriteString(dnfPlanPackagesHead)
	for _, p := range spec.Packages {
		fmt.Fprintf(&b, "\tow_op %s %s %s\n", p.Op, change.Quote(p.Name), change.Quote(p.Version))
	}
	b.WriteString(dnfPlanPackagesTail)
	return b.String()
}
