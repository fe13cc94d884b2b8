package audit_test

import (
	"go/ast"
	"go/parser"
	"go/token"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/openwatch/openwatch/internal/audit"
)

func TestRegistry(t *testing.T) {
	t.Parallel()
	name := regexp.MustCompile(`^[a-z][a-z_]*(\.[a-z][a-z_]*)+$`)
	severities := map[audit.Severity]bool{
		audit.SeverityInfo: true, audit.SeverityNotice: true, audit.SeverityWarning: true, audit.SeverityCritical: true,
	}
	for action, spec := range audit.Actions {
		require.Regexp(t, name, string(action))
		require.True(t, severities[spec.Severity], "%s has severity %q", action, spec.Severity)
		require.True(t, strings.HasSuffix(spec.Description, "."), "%s: the description is a sentence", action)
	}

	for action, severity := range map[audit.Action]audit.Severity{
		"auth.login.succeeded": audit.SeverityInfo,
		"auth.login.failed":    audit.SeverityWarning,
		"auth.refresh.reused":  audit.SeverityCritical,
		"authz.denied":         audit.SeverityWarning,
		"user.password_reset":  audit.SeverityNotice,
		"token.revoked":        audit.SeverityNotice,
		"audit.verified":       audit.SeverityInfo,
	} {
		require.Equal(t, severity, audit.Actions[action].Severity, action)
	}
}

// TestEveryActionIsRegisteredAndWritten: every Action constant is in the registry (an
// unregistered one could never be appended), and every registered action is written by
// some code outside the registry (nothing classified is dead).
func TestEveryActionIsRegisteredAndWritten(t *testing.T) {
	t.Parallel()
	fset := token.NewFileSet()
	f, err := parser.ParseFile(fset, "registry.go", nil, 0)
	require.NoError(t, err)
	consts := map[string]audit.Action{}
	for _, decl := range f.Decls {
		g, ok := decl.(*ast.GenDecl)
		if !ok || g.Tok != token.CONST {
			continue
		}
		for _, spec := range g.Specs {
			v := spec.(*ast.ValueSpec)
			if id, ok := v.Type.(*ast.Ident); !ok || id.Name != "Action" {
				continue
			}
			for i, name := range v.Names {
				lit := v.Values[i].(*ast.BasicLit)
				value, err := strconv.Unquote(lit.Value)
				require.NoError(t, err)
				consts[name.Name] = audit.Action(value)
			}
		}
	}
	require.Len(t, consts, len(audit.Actions), "every registered action has a constant, and only those")
	for name, action := range consts {
		_, ok := audit.Actions[action]
		require.True(t, ok, "%s (%s) is not registered", name, action)
	}

	used := map[string]bool{}
	ident := regexp.MustCompile(`\bAction[A-Z]\w*`)
	root := filepath.Join("..", "..")
	for _, dir := range []string{"internal", "cmd"} {
		require.NoError(t, filepath.WalkDir(filepath.Join(root, dir), func(path string, d fs.DirEntry, err error) error {
			if err != nil || d.IsDir() || !strings.HasSuffix(path, ".go") || strings.HasSuffix(path, "_test.go") ||
				strings.HasSuffix(path, filepath.Join("audit", "registry.go")) {
				return err
			}
			b, err := os.ReadFile(path)
			for _, m := range ident.FindAllString(string(b), -1) {
				used[m] = true
			}
			return err
		}))
	}
	for name := range consts {
		require.True(t, used[name], "%s is registered but nothing writes it", name)
	}
}
