package remedy

import (
	"fmt"
	"strings"

	"github.com/openwatch/openwatch/internal/change"
)

// maxFileBytes is the largest file an action edits: its prior state (base64, in lines of
// 76 characters with a 4-byte prefix) must fit change.MaxPriorBytes with room to spare.
const maxFileBytes = (change.MaxPriorBytes - 1024) * 3 / 4 * 76 / 81

// fileEdit is an action that rewrites one file through a filter, and may change runtime
// state after it.
type fileEdit struct {
	path string
	// env holds the values the filter reads (awk reads ENVIRON, so nothing is unescaped).
	env [][2]string
	// filter reads the current content (empty when the file is absent) on stdin and
	// prints the wanted content.
	filter string
	// mode is a created file's mode.
	mode string
	// validate, when set, runs after the new file is in place; when it fails the old
	// file is put back and Apply fails.
	validate, validateWhat string
	// captureMore prints more prior state; applyMore changes runtime state after the
	// file (it runs every time, so it must be idempotent); previewMore prints one line per
	// runtime change; restoreMore puts runtime state back after the file is restored.
	captureMore, applyMore, previewMore, restoreMore string
}

func (e fileEdit) head() string {
	var b strings.Builder
	fmt.Fprintf(&b, "f=%s\n", change.Quote(e.path))
	for _, kv := range e.env {
		fmt.Fprintf(&b, "%s=%s\nexport %s\n", kv[0], change.Quote(kv[1]), kv[0])
	}
	return b.String()
}

func (e fileEdit) newFunc() string {
	return "ow_new() {\n  if [ -f \"$f\" ]; then cat -- \"$f\"; fi | " + e.filter + "\n}\n"
}

func (e fileEdit) capture() string {
	return e.head() + fmt.Sprintf(`if [ -L "$f" ]; then echo "$f is a symbolic link: it is not changed" >&2; exit 3; fi
if [ -e "$f" ]; then
  [ -f "$f" ] || { echo "$f is not a regular file: it is not changed" >&2; exit 3; }
  n=$(wc -c < "$f") || exit 1
  [ "$n" -le %[1]d ] || { echo "$f is $n bytes, more than a change can roll back (%[1]d)" >&2; exit 3; }
  echo "file present $(stat -c '%%a %%u %%g' -- "$f")"
  base64 < "$f" | sed 's/^/b64 /'
else
  d=$(dirname -- "$f") top=
  while [ ! -d "$d" ]; do top=$d; d=$(dirname -- "$d"); done
  echo "file absent${top:+ $top}"
fi
`, maxFileBytes) + e.captureMore
}

func (e fileEdit) preview() string {
	return e.head() + e.newFunc() + `t=$(mktemp) || exit 1
trap 'rm -f "$t"' EXIT
ow_new > "$t" || exit 1
if [ -f "$f" ]; then old=$f; else old=/dev/null; fi
diff -u --label "$old" --label "$f" -- "$old" "$t"
[ $? -le 1 ] || exit 1
` + e.previewMore
}

func (e fileEdit) apply() string {
	var b strings.Builder
	b.WriteString(e.head())
	b.WriteString(e.newFunc())
	b.WriteString(`t=$(mktemp) || exit 1
o= ow_changed=
trap 'rm -f "$t" $o' EXIT
ow_new > "$t" || exit 1
if [ -f "$f" ] && cmp -s -- "$t" "$f"; then
  :
else
  mkdir -p -- "$(dirname -- "$f")" || exit 1
  n=$(mktemp "$f.owXXXXXX") || exit 1
  if [ -f "$f" ]; then
    cat "$t" > "$n" && chmod --reference="$f" -- "$n" && chown --reference="$f" -- "$n" || { rm -f "$n"; exit 1; }
`)
	if e.validate != "" {
		b.WriteString("    o=$(mktemp) && cp -p -- \"$f\" \"$o\" || { rm -f \"$n\"; exit 1; }\n")
	}
	fmt.Fprintf(&b, `  else
    cat "$t" > "$n" && chmod %s -- "$n" && chown 0:0 -- "$n" || { rm -f "$n"; exit 1; }
  fi
  mv -f -- "$n" "$f" || { rm -f "$n"; exit 1; }
`, e.mode)
	if e.validate != "" {
		fmt.Fprintf(&b, `  if ! ( %s ) >&2; then
    if [ -n "$o" ]; then mv -f -- "$o" "$f"; o=; else rm -f -- "$f"; fi
    echo "%s rejects the change to $f: it is left as it was" >&2
    exit 1
  fi
`, e.validate, e.validateWhat)
	}
	b.WriteString("  ow_changed=1\nfi\n")
	b.WriteString(e.applyMore)
	return b.String()
}

func (e fileEdit) restore() string {
	return e.head() + `st=$(sed -n 's/^file //p' "$OW_PRIOR" | head -n 1)
case $st in
absent*)
  rm -f -- "$f" || exit 1
  top=${st#absent}; top=${top# }
  if [ -n "$top" ]; then
    d=$(dirname -- "$f")
    while rmdir -- "$d" 2>/dev/null && [ "$d" != "$top" ]; do d=$(dirname -- "$d"); done
  fi
  ;;
present\ *)
  set -- $st
  n=$(mktemp "$f.owXXXXXX") || exit 1
  if sed -n 's/^b64 //p' "$OW_PRIOR" | base64 -d > "$n" && chmod "$2" -- "$n" && chown "$3:$4" -- "$n" && mv -f -- "$n" "$f"; then
    :
  else
    rm -f "$n"; exit 1
  fi
  ;;
*)
  echo "the prior state of $f was not captured" >&2; exit 1
  ;;
esac
` + e.restoreMore
}

// action renders the edit as a change action.
func (e fileEdit) action(kind, summary, target string) change.Action {
	return change.Action{Kind: kind, Summary: summary, Target: target,
		Capture: e.capture(), Preview: e.preview(), Apply: e.apply(), Restore: e.restore()}
}

// keyValueFilter replaces the first setting of OW_KEY (a line "key", "key = value" or
// "key value", as the engine reads them; with OW_DELIM "=" only the first two) by OW_LINE,
// drops later settings of it (the engine reads the last), and appends OW_LINE when none.
const keyValueFilter = `awk '
function ours(s,   t, i, rest) {
  t = s; sub(/^[ \t]+/, "", t); sub(/[ \t\r]+$/, "", t)
  if (t == "" || substr(t, 1, 1) == "#") return 0
  i = match(t, /[= \t]/)
  if (i == 0) return tolower(t) == tolower(ENVIRON["OW_KEY"])
  if (tolower(substr(t, 1, i - 1)) != tolower(ENVIRON["OW_KEY"])) return 0
  rest = substr(t, i); sub(/^[ \t]+/, "", rest)
  if (ENVIRON["OW_DELIM"] == "=" && substr(rest, 1, 1) != "=") return 0
  return 1
}
ours($0) { if (!done) print ENVIRON["OW_LINE"]; done = 1; next }
{ print }
END { if (!done) print ENVIRON["OW_LINE"] }'`

// sshdFilter puts OW_LINE first (sshd takes a keyword's first value) and drops the other
// settings of the keyword OW_KEY outside Match blocks.
const sshdFilter = `awk '
BEGIN { print ENVIRON["OW_LINE"]; key = tolower(ENVIRON["OW_KEY"]) }
{ t = $0; sub(/^[ \t]+/, "", t); w = tolower($1) }
!inmatch && w == "match" { inmatch = 1 }
!inmatch && t != "" && substr(t, 1, 1) != "#" && (w == key || index(w, key "=") == 1) { next }
{ print }'`

// sysctlFilter replaces the first setting of OW_KEY ("key = value", "-key=value", with
// dots or slashes) by OW_LINE, drops later ones and appends OW_LINE when none.
const sysctlFilter = `awk '
function ours(s,   t, i) {
  t = s; sub(/^[ \t]+/, "", t); sub(/^-/, "", t)
  if (t == "" || substr(t, 1, 1) == "#" || substr(t, 1, 1) == ";") return 0
  i = index(t, "=")
  if (i == 0) return 0
  t = substr(t, 1, i - 1); sub(/[ \t]+$/, "", t); gsub(/\//, ".", t)
  return t == ENVIRON["OW_KEY"]
}
ours($0) { if (!done) print ENVIRON["OW_LINE"]; done = 1; next }
{ print }
END { if (!done) print ENVIRON["OW_LINE"] }'`

// appendLineFilter appends OW_LINE unless a line equal to it (blanks normalised) is there.
const appendLineFilter = `awk '
{ print; t = $0; gsub(/[ \t]+/, " ", t); sub(/^ /, "", t); sub(/ $/, "", t); if (t == ENVIRON["OW_LINE"]) found = 1 }
END { if (!found) print ENVIRON["OW_LINE"] }'`

// contentFilter replaces the content by OW_CONTENT.
const contentFilter = `{ cat > /dev/null; printf '%s' "$OW_CONTENT"; }`

// fstabFilter adds the options OW_OPTS (comma-separated) missing from the fourth field
// of the lines that mount OW_MP.
const fstabFilter = `awk '
BEGIN { n = split(ENVIRON["OW_OPTS"], want, ",") }
{ t = $0; sub(/^[ \t]+/, "", t) }
t != "" && substr(t, 1, 1) != "#" && NF >= 4 && $2 == ENVIRON["OW_MP"] {
  opts = $4; changed = 0
  for (i = 1; i <= n; i++) if (index("," opts ",", "," want[i] ",") == 0) { opts = opts "," want[i]; changed = 1 }
  if (changed) { line = $1 "\t" $2 "\t" $3 "\t" opts; for (i = 5; i <= NF; i++) line = line "\t" $i; print line; next }
}
{ print }'`
