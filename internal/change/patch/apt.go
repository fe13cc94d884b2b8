package patch

import (
	"fmt"
	"strings"

	"github.com/openwatch/openwatch/internal/change"
)

// aptPrelude defines the helpers every apt script uses.
const aptPrelude = `export DEBIAN_FRONTEND=noninteractive APT_LISTCHANGES_FRONTEND=none NEEDRESTART_MODE=a LC_ALL=C
ow_lock="-o DPkg::Lock::Timeout=` + lockWait + `"
ow_conf="-o Dpkg::Options::=--force-confdef -o Dpkg::Options::=--force-confold"
ow_installed() {
	ow_s=$(dpkg-query -W -f='${db:Status-Abbrev}${Version}\n' "$1" 2>/dev/null | head -n 1)
	case $ow_s in
	"" | ?n* | ?c*) ;;
	*) printf '%s\n' "${ow_s#???}" ;;
	esac
}
ow_held() { apt-mark showhold 2>/dev/null | grep -qxF "$1"; }
ow_candidate() { apt-cache policy "$1" 2>/dev/null | awk '$1 == "Candidate:" { print $2; exit }'; }
ow_available() {
	apt-cache madison "$1" 2>/dev/null | awk -F'|' -v v="$2" '{ gsub(/ /, "", $2) } $2 == v { f = 1 } END { exit !f }'
}
ow_update() {
	# apt-get update does not wait for the lists lock (DPkg::Lock::Timeout covers
	# dpkg's): retry while another apt holds it.
	ow_waited=0
	while :; do
		ow_out=$(apt-get -q $ow_lock -o APT::Update::Error-Mode=any update 2>&1) && return 0
		case $ow_out in
		*"Could not get lock"* | *"Unable to lock"*)
			if [ $ow_waited -lt ` + lockWait + ` ]; then
				sleep 2
				ow_waited=$((ow_waited + 2))
				continue
			fi ;;
		esac
		printf '%s\n' "$ow_out" | tail -n 20 >&2
		echo "patch: apt-get update failed: the package index could not be refreshed" >&2
		return 1
	done
}
`

// aptPlanAll upgrades everything, installing new dependencies, never removing.
const aptPlanAll = `ow_plan() { ow_args="upgrade --with-new-pkgs"; ow_hold=; ow_unhold=; }
`

// aptPlanSecurity upgrades the packages whose candidate comes from a -security suite.
const aptPlanSecurity = `ow_plan() {
	ow_args=; ow_hold=; ow_unhold=
	ow_sim=$(apt-get -s -q -o Debug::NoLocking=1 upgrade --with-new-pkgs 2>&1) || {
		printf '%s\n' "$ow_sim" | tail -n 20 >&2
		echo "patch: apt-get could not work out the pending upgrades" >&2
		return 1
	}
	ow_sec=$(printf '%s\n' "$ow_sim" | awk '$1 == "Inst" { i = index($0, "("); if (i > 0 && index(substr($0, i), "-security") > 0) print $2 }' | sort -u | tr '\n' ' ')
	if [ -n "$ow_sec" ]; then ow_args="install --only-upgrade $ow_sec"; fi
	return 0
}
`

// aptPlanPackagesHead defines ow_op, which decides one named operation, and opens
// ow_plan; the operations follow, then aptPlanPackagesTail.
const aptPlanPackagesHead = `ow_op() {
	ow_cur=$(ow_installed "$2")
	ow_want=
	case $1 in
	install)
		if [ -z "$ow_cur" ]; then
			ow_want=$2${3:+=$3}
		elif [ -n "$3" ] && [ "$ow_cur" != "$3" ]; then
			ow_want=$2=$3
		fi ;;
	upgrade)
		if [ -z "$ow_cur" ]; then
			echo "patch: $2 is not installed: nothing to upgrade" >&2
		elif [ -n "$3" ]; then
			if [ "$ow_cur" != "$3" ]; then ow_want=$2=$3; fi
		else
			ow_c=$(ow_candidate "$2")
			if [ -n "$ow_c" ] && [ "$ow_c" != "(none)" ] && [ "$ow_c" != "$ow_cur" ]; then ow_want=$2; fi
		fi ;;
	remove)
		if [ -n "$ow_cur" ]; then ow_want=$2-; fi ;;
	hold)
		ow_held "$2" || ow_hold="$ow_hold $2" ;;
	unhold)
		if ow_held "$2"; then ow_unhold="$ow_unhold $2"; fi ;;
	esac
	if [ -n "$ow_want" ]; then
		if ow_held "$2"; then
			echo "patch: $2 is held: unhold it before changing it" >&2
			ow_fail=1
		fi
		ow_args="$ow_args $ow_want"
	fi
	return 0
}
ow_plan() {
	ow_args=; ow_hold=; ow_unhold=; ow_fail=
`

const aptPlanPackagesTail = `	if [ -n "$ow_fail" ]; then return 1; fi
	if [ -n "$ow_args" ]; then ow_args="install --allow-downgrades$ow_args"; fi
	return 0
}
`

// aptCapture records what the plan's apt-get command would change (its simulation),
// plus the holds, with each package's version and hold state now and after.
const aptCapture = `ow_update || exit 1
ow_plan || exit 1
ow_t=$(mktemp -d) || exit 1
trap 'rm -rf "$ow_t"' EXIT
apt-mark showhold > "$ow_t/held" 2>/dev/null
: > "$ow_t/sim"
: > "$ow_t/holds"
if [ -n "$ow_args" ]; then
	apt-get -s -q -o Debug::NoLocking=1 $ow_args > "$ow_t/sim" 2> "$ow_t/err" || {
		tail -n 20 "$ow_t/sim" "$ow_t/err" >&2
		echo "patch: apt-get cannot make this change: apt-get $ow_args failed in simulation" >&2
		exit 1
	}
fi
for ow_p in $ow_hold; do printf '%s 1 %s\n' "$ow_p" "$(ow_installed "$ow_p")" >> "$ow_t/holds"; done
for ow_p in $ow_unhold; do printf '%s 0 %s\n' "$ow_p" "$(ow_installed "$ow_p")" >> "$ow_t/holds"; done
echo "# openwatch patch prior state v1 apt: pkg NAME BEFORE BEFORE_HELD AFTER AFTER_HELD"
awk '
function rec(n, b, a) { if (!(n in before)) order[++no] = n; before[n] = b; after[n] = a }
FILENAME == ARGV[1] { held[$1] = 1; next }
FILENAME == ARGV[2] { hname[++nh] = $1; hwant[$1] = $2; hcur[$1] = ($3 == "" ? "-" : $3); next }
$1 == "Inst" {
	b = "-"; a = $3
	if ($3 ~ /^\[/) { b = substr($3, 2, length($3) - 2); a = $4 }
	sub(/^\(/, "", a)
	rec($2, b, a); next
}
$1 == "Remv" {
	b = "-"
	if ($3 ~ /^\[/) b = substr($3, 2, length($3) - 2)
	rec($2, b, "-"); next
}
END {
	for (i = 1; i <= nh; i++) { n = hname[i]; if (!(n in before)) rec(n, hcur[n], hcur[n]) }
	for (i = 1; i <= no; i++) {
		n = order[i]; bh = (n in held) ? 1 : 0; ah = (n in hwant) ? hwant[n] : bh
		print "pkg", n, before[n], bh, after[n], ah
	}
}' "$ow_t/held" "$ow_t/holds" "$ow_t/sim"
`

// previewScript prints one line per recorded change; it is the same for apt and dnf.
const previewScript = `awk '$1 == "pkg" {
	if ($3 != $5) { n++; printf "%s %s → %s\n", $2, ($3 == "-" ? "(not installed)" : $3), ($5 == "-" ? "(removed)" : $5) }
	if ($4 != $6) { n++; printf "%s %s\n", $2, ($6 == 1 ? "hold" : "unhold") }
}
END { if (n == 0) print "no package changes" }' "$OW_PRIOR"
`

const aptApply = `ow_update || exit 1
ow_plan || exit 1
if [ -n "$ow_args" ]; then
	apt-get -q -y $ow_lock $ow_conf $ow_args
	ow_rc=$?
	if [ $ow_rc -ne 0 ]; then
		echo "patch: apt-get $ow_args failed (exit $ow_rc)" >&2
		exit 1
	fi
fi
for ow_p in $ow_hold; do
	apt-mark $ow_lock hold "$ow_p" || { echo "patch: apt-mark hold $ow_p failed" >&2; exit 1; }
done
for ow_p in $ow_unhold; do
	apt-mark $ow_lock unhold "$ow_p" || { echo "patch: apt-mark unhold $ow_p failed" >&2; exit 1; }
done
exit 0
`

// aptRestore puts back the recorded versions and holds.
const aptRestore = `dpkg --force-confdef --force-confold --configure -a >/dev/null 2>&1
ow_args=; ow_missing=; ow_hold=; ow_unhold=; ow_rc=0
while read -r ow_k ow_n ow_b ow_bh ow_a ow_ah; do
	[ "$ow_k" = pkg ] || continue
	ow_cur=$(ow_installed "$ow_n")
	if [ "$ow_b" = - ]; then
		if [ -n "$ow_cur" ]; then ow_args="$ow_args $ow_n-"; fi
	elif [ "$ow_cur" != "$ow_b" ]; then
		if ow_available "$ow_n" "$ow_b"; then
			ow_args="$ow_args $ow_n=$ow_b"
		else
			ow_deb=$(ls /var/cache/apt/archives/"${ow_n%%:*}_$(printf '%s' "$ow_b" | sed 's/:/%3a/')"_*.deb 2>/dev/null | head -n 1)
			if [ -n "$ow_deb" ]; then
				ow_args="$ow_args $ow_deb"
			else
				ow_missing="$ow_missing
  $ow_n $ow_b (it stays at ${ow_cur:-not installed})"
			fi
		fi
	fi
	if [ "$ow_bh" = 1 ]; then
		ow_held "$ow_n" || ow_hold="$ow_hold $ow_n"
	elif ow_held "$ow_n"; then
		ow_unhold="$ow_unhold $ow_n"
	fi
done < "$OW_PRIOR"
for ow_p in $ow_unhold; do
	apt-mark $ow_lock unhold "$ow_p" || { echo "patch: apt-mark unhold $ow_p failed" >&2; ow_rc=1; }
done
if [ -n "$ow_args" ]; then
	apt-get -q -y $ow_lock $ow_conf --allow-downgrades --allow-change-held-packages --no-install-recommends install $ow_args
	ow_c=$?
	if [ $ow_c -ne 0 ]; then
		echo "patch: restore failed: apt-get install$ow_args exited $ow_c" >&2
		ow_rc=1
	fi
fi
for ow_p in $ow_hold; do
	apt-mark $ow_lock hold "$ow_p" || { echo "patch: apt-mark hold $ow_p failed" >&2; ow_rc=1; }
done
if [ -n "$ow_missing" ]; then
	echo "patch: cannot restore these versions: they are no longer available from the package sources or the package cache (/var/cache/apt/archives):$ow_missing" >&2
	exit 1
fi
exit $ow_rc
`

// aptScripts returns the four scripts for spec on an apt host.
func aptScripts(spec Spec) scripts {
	plan := aptPlan(spec)
	return scripts{
		capture: aptPrelude + plan + aptCapture,
		preview: previewScript,
		apply:   aptPrelude + plan + aptApply,
		restore: aptPrelude + aptRestore,
	}
}

func aptPlan(spec Spec) string {
	switch spec.Mode {
	case ModeAll:
		return aptPlanAll
	case ModeSecurity:
		return aptPlanSecurity
	}
	var b strings.Builder
	b.WriteString(aptPlanPackagesHead)
	for _, p := range spec.Packages {
		fmt.Fprintf(&b, "\tow_op %s %s %s\n", p.Op, change.Quote(p.Name), change.Quote(p.Version))
	}
	b.WriteString(aptPlanPackagesTail)
	return b.String()
}
