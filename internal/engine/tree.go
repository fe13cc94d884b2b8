package engine

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/openwatch/openwatch/internal/rule"
)

// A file_tree check is one or more conditions over every directory or file below some
// roots. The checks that walk the same tree share one find on the target: each condition
// is a branch of the find (GNU find's comma operator) printing the paths that break it,
// tagged with the condition, and awk keeps the first treeListed paths of each tag and
// counts them all. One walk of /usr/lib answers "owned by root" and "group root" both.

// treeListed is how many paths breaking one condition the target prints.
const treeListed = 50

// treeCondition is one test of a file_tree check: its tag in the walk's output, the find
// expression matching the paths that break it, and what it asks, in words.
type treeCondition struct {
	tag, expr, want string
}

// treeKey names the walk (the record) of a file_tree check: checks with the same key
// share it.
func treeKey(p *rule.FileTree) string {
	var b strings.Builder
	fmt.Fprintf(&b, "tree %s %s", p.Type, strings.Join(p.Roots, " "))
	if p.MaxDepth > 0 {
		fmt.Fprintf(&b, " depth=%d", p.MaxDepth)
	}
	if p.FollowSymlinks {
		b.WriteString(" follow")
	}
	if p.SameFilesystem {
		b.WriteString(" xdev")
	}
	if len(p.ExcludeNames) > 0 {
		b.WriteString(" exclude=" + strings.Join(p.ExcludeNames, ","))
	}
	if p.Root {
		b.WriteString(" root")
	}
	return b.String()
}

// treeConditions are the conditions a file_tree check tests, in a fixed order.
func treeConditions(p *rule.FileTree) []treeCondition {
	var out []treeCondition
	if p.Mode != "" {
		m, _ := strconv.ParseUint(p.Mode, 8, 32)
		if extra := 0o777 &^ m; extra != 0 {
			out = append(out, treeCondition{tag: fmt.Sprintf("mode<=%04o", m&0o777), expr: fmt.Sprintf("-perm /%04o", extra),
				want: fmt.Sprintf("mode %04o or stricter", m&0o777)})
		}
	}
	if p.Owner != "" {
		out = append(out, treeCondition{tag: "owner=" + p.Owner, expr: "! -user " + p.Owner, want: "owner " + p.Owner})
	}
	if p.Group != "" {
		out = append(out, treeCondition{tag: "group=" + p.Group, expr: "! -group " + p.Group, want: "group " + p.Group})
	}
	if p.MaxGID != nil {
		out = append(out, treeCondition{tag: fmt.Sprintf("gid<=%d", *p.MaxGID), expr: fmt.Sprintf("-gid +%d", *p.MaxGID),
			want: fmt.Sprintf("a group id of at most %d", *p.MaxGID)})
	}
	return out
}

// treeWalk is one find and the conditions of every check sharing it.
type treeWalk struct {
	shape *rule.FileTree // the first check's parameters: the walk's shape
	conds []treeCondition
}

func (w *treeWalk) add(p *rule.FileTree) {
	for _, c := range treeConditions(p) {
		dup := false
		for _, have := range w.conds {
			dup = dup || have.tag == c.tag
		}
		if !dup {
			w.conds = append(w.conds, c)
		}
	}
}

// script is the walk's shell text: the roots that exist and are not links (on a merged
// /usr, /lib is /usr/lib: walking both would count each path twice; "#!noroots" when none
// is left),
// then one find whose branches print "TAG<TAB>PATH<TAB>MODE OWNER GROUP" for each path
// breaking a condition, at most treeListed per tag, and a "#!count<TAB>TAG<TAB>N" line
// per tag with any.
func (w *treeWalk) script() string {
	p := w.shape
	var b strings.Builder
	fmt.Fprintf(&b, "set --\nfor d in %s; do\n  if [ -d \"$d\" ] && [ ! -L \"$d\" ]; then set -- \"$@\" \"$d\"; fi\ndone\n", quoteAll(p.Roots))
	b.WriteString("[ $# -gt 0 ] || { echo '#!noroots'; exit 0; }\nfind ")
	if p.FollowSymlinks {
		b.WriteString("-L ")
	}
	b.WriteString(`"$@"`)
	if p.SameFilesystem {
		b.WriteString(" -xdev")
	}
	if p.MaxDepth > 0 {
		fmt.Fprintf(&b, " -maxdepth %d", p.MaxDepth)
	}
	if p.Type == "directory" {
		b.WriteString(" -type d")
	} else {
		b.WriteString(" -type f")
	}
	for _, n := range p.ExcludeNames {
		b.WriteString(" ! -name " + shellQuote(n))
	}
	b.WriteString(" \\(")
	for i, c := range w.conds {
		if i > 0 {
			b.WriteString(" ,")
		}
		fmt.Fprintf(&b, " \\( %s -printf '%s\\t%%p\\t%%m %%u %%g\\n' \\)", c.expr, c.tag)
	}
	fmt.Fprintf(&b, " \\) 2>/dev/null |\n  awk -F '\\t' '{ n[$1]++ } n[$1] <= %d { print } END { for (t in n) printf \"#!count\\t%%s\\t%%d\\n\", t, n[t] }'", treeListed)
	return b.String()
}

func evalFileTree(p *rule.FileTree, rs *Records) outcome {
	key := treeKey(p)
	rec, problem := rs.get(key)
	if problem != "" {
		return errored(problem)
	}
	kind := "directories"
	if p.Type == "file" {
		kind = "files"
	}
	roots := strings.Join(p.Roots, ", ")
	conds := treeConditions(p)
	var want []string
	for _, c := range conds {
		want = append(want, c.want)
	}
	expected := fmt.Sprintf("every one of the %s below %s: %s", kind, roots, strings.Join(want, ", "))
	counts := map[string]int{}
	listed := map[string][]string{}
	var shown []string
	for _, l := range lines(rec.Stdout) {
		if l == "#!noroots" {
			return skip("none of " + roots + " exists")
		}
		f := strings.Split(l, "\t")
		if f[0] == "#!count" && len(f) == 3 {
			n, err := strconv.Atoi(f[2])
			if err != nil {
				return errored(fmt.Sprintf("the walk of %s printed a count %q", roots, f[2]))
			}
			counts[f[1]] = n
			continue
		}
		if len(f) >= 2 {
			listed[f[0]] = append(listed[f[0]], f[1])
			for _, c := range conds {
				if c.tag == f[0] {
					shown = append(shown, l)
				}
			}
		}
	}
	var wrong []string
	for _, c := range conds {
		n := counts[c.tag]
		if n == 0 {
			continue
		}
		paths := listed[c.tag]
		if len(paths) > 5 {
			paths = append(paths[:5:5], "…")
		}
		wrong = append(wrong, fmt.Sprintf("%d without %s (%s)", n, c.want, strings.Join(paths, ", ")))
	}
	if len(wrong) == 0 {
		return pass(expected, "no exception", "")
	}
	actual := strings.Join(wrong, "; ")
	return fail(fmt.Sprintf("%s below %s: %s", kind, roots, actual), expected, actual, strings.Join(shown, "\n"))
}
