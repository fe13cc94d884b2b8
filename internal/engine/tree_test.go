package engine

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/openwatch/openwatch/internal/rule"
)

func TestFileTreeEvaluation(t *testing.T) {
	owner := &rule.FileTree{Roots: []string{"/usr/lib", "/lib"}, Type: "directory", Owner: "root"}
	group := &rule.FileTree{Roots: []string{"/usr/lib", "/lib"}, Type: "directory", Group: "root"}
	require.Equal(t, treeKey(owner), treeKey(group), "the same tree is one walk")
	out := "owner=root\t/usr/lib/x\t755 bin root\nowner=root\t/usr/lib/y\t755 bin bin\ngroup=root\t/usr/lib/y\t755 bin bin\n" +
		"#!count\towner=root\t2\n#!count\tgroup=root\t1\n"
	rs := recs(map[string]string{treeKey(owner): out})
	o := eval(t, owner, rs)
	requireOutcome(t, o, StatusFail, "2 without owner root (/usr/lib/x, /usr/lib/y)")
	require.NotContains(t, o.output, "group=root", "a check shows only its own lines")
	requireOutcome(t, eval(t, group, rs), StatusFail, "1 without group root (/usr/lib/y)")

	// More paths than the target lists: the count says how many.
	many := "owner=root\t/a\t755 bin root\n#!count\towner=root\t5000\n"
	requireOutcome(t, eval(t, owner, recs(map[string]string{treeKey(owner): many})), StatusFail, "5000 without owner root (/a)")

	clean := recs(map[string]string{treeKey(owner): ""})
	requireOutcome(t, eval(t, owner, clean), StatusPass, "")
	requireOutcome(t, eval(t, owner, recs(map[string]string{treeKey(owner): "#!noroots\n"})), StatusSkipped, "none of /usr/lib, /lib exists")
	requireOutcome(t, eval(t, owner, recs(map[string]string{"other": ""})), StatusError, "did not read")
	requireOutcome(t, eval(t, owner, recs(map[string]string{treeKey(owner): "#!count\towner=root\tmany\n"})), StatusError, "count")
}

// TestFileTreeWalk runs a compiled walk in a shell over a tree made here: the branches
// find what breaks each condition, the excluded names and the depth bound hold, and the
// listing is capped while the count is not.
func TestFileTreeWalk(t *testing.T) {
	if _, err := exec.LookPath("find"); err != nil {
		t.Fatalf("the walk needs find: %v", err)
	}
	dir := t.TempDir()
	mk := func(rel string, mode os.FileMode) {
		p := filepath.Join(dir, rel)
		require.NoError(t, os.MkdirAll(filepath.Dir(p), 0o755))
		require.NoError(t, os.WriteFile(p, nil, 0o600))
		require.NoError(t, os.Chmod(p, mode))
	}
	mk("ok.log", 0o640)
	mk("loose.log", 0o664)
	mk("wtmp", 0o664) // excluded by name
	mk("deep/a/b/c.log", 0o666)
	for i := range treeListed + 7 {
		mk(filepath.Join("many", "f"+strings.Repeat("x", i%3)+string(rune('a'+i%26))+string(rune('a'+i/26))), 0o646)
	}
	mode := &rule.FileTree{Roots: []string{dir, dir + "/absent"}, Type: "file", Mode: "0640", ExcludeNames: []string{"*[bw]tmp"}}
	nobody := &rule.FileTree{Roots: []string{dir, dir + "/absent"}, Type: "file", Owner: "nobody", ExcludeNames: []string{"*[bw]tmp"}}
	shallow := &rule.FileTree{Roots: []string{dir}, Type: "file", Mode: "0640", MaxDepth: 1}
	p := Compile([]*rule.Rule{treeRule("mode", mode), treeRule("owner", nobody), treeRule("shallow", shallow)}, 0)
	run := func(key string) string {
		for _, r := range p.Records {
			if r.Key == key {
				out, err := exec.Command("/bin/sh", "-c", r.Command).Output()
				require.NoError(t, err, r.Command)
				return string(out)
			}
		}
		t.Fatalf("no record %q in %v", key, p.Records)
		return ""
	}
	require.Equal(t, treeKey(mode), treeKey(nobody))
	out := run(treeKey(mode))
	rs := recs(map[string]string{treeKey(mode): out})
	o := eval(t, mode, rs)
	requireOutcome(t, o, StatusFail, "59 without mode 0640 or stricter") // loose.log, deep/a/b/c.log and the 57 in many/
	require.NotContains(t, out, "wtmp")
	require.Equal(t, treeListed, strings.Count("\n"+out, "\nmode<=0640\t"), "the listing is capped")
	requireOutcome(t, eval(t, nobody, rs), StatusFail, "60 without owner nobody") // every file but wtmp

	o = eval(t, shallow, recs(map[string]string{treeKey(shallow): run(treeKey(shallow))}))
	requireOutcome(t, o, StatusFail, "2 without mode 0640 or stricter (") // loose.log and wtmp (not excluded here); nothing deeper
	require.Contains(t, o.reason, dir+"/loose.log")
	require.Contains(t, o.reason, dir+"/wtmp")
}

func treeRule(id string, p *rule.FileTree) *rule.Rule {
	return &rule.Rule{ID: id, Implementations: []rule.Implementation{{Check: rule.Check{Method: "file_tree", Params: p}}}}
}

// TestAsyncRecords runs a program's prelude and records in one local shell, as a session
// would: the tree walk started in the background is replayed by its record, with the same
// output and status as when the host cannot make the directory and the record runs it
// in place; the directory is gone afterwards.
func TestAsyncRecords(t *testing.T) {
	dir := t.TempDir()
	require.NoError(t, os.WriteFile(filepath.Join(dir, "loose"), nil, 0o600))
	require.NoError(t, os.Chmod(filepath.Join(dir, "loose"), 0o666))
	tree := &rule.FileTree{Roots: []string{dir}, Type: "file", Mode: "0644"}
	p := Compile([]*rule.Rule{treeRule("tree", tree)}, 0)
	cmds := p.Commands()
	last := cmds[len(cmds)-1]
	require.Equal(t, treeKey(tree), last.Name, "async records come last")
	run := func(before string) string {
		t.Helper()
		script := before + "\n" + p.Prelude() + "\necho \"dir=$OW_T\"\n( eval " + shellQuote(last.Script) + " )\necho \"rc=$?\""
		out, err := exec.Command("/bin/sh", "-c", script).CombinedOutput()
		require.NoError(t, err, "%s", out)
		return string(out)
	}
	async := run("")
	inPlace := run("mktemp() { return 1; }")
	require.Contains(t, async, "dir=/")
	require.Contains(t, inPlace, "dir=\n")
	strip := func(s string) string { return s[strings.Index(s, "\n")+1:] }
	require.Equal(t, strip(inPlace), strip(async))
	require.Contains(t, async, "mode<=0644\t"+dir+"/loose")
	require.Contains(t, async, "rc=0")
	tmp := strings.TrimPrefix(strings.SplitN(async, "\n", 2)[0], "dir=")
	_, err := os.Stat(tmp)
	require.True(t, os.IsNotExist(err), "the program's directory is removed when it exits")
}
