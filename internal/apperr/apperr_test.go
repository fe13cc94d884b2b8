package apperr_test

import (
	"errors"
	"go/ast"
	"go/parser"
	"go/token"
	"io/fs"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/openwatch/openwatch/internal/apperr"
)

// errThingNotFound is built the way STYLE.md rule 15 asks: a fresh value per use.
func errThingNotFound() *apperr.Error { return apperr.NotFound("The thing does not exist.") }

func TestSentinelFunctionWithDetailIsIndependent(t *testing.T) {
	t.Parallel()
	a := errThingNotFound().WithDetail("thing_id", "a")
	b := errThingNotFound().WithDetail("thing_id", "b")
	require.Equal(t, "a", a.Detail["thing_id"])
	require.Equal(t, "b", b.Detail["thing_id"])
	require.Nil(t, errThingNotFound().Detail, "a later use starts without detail")
	require.True(t, apperr.Is(a, apperr.CodeNotFound))
	require.True(t, apperr.Is(b, apperr.CodeNotFound))
}

func TestWithDetailLeavesReceiverAlone(t *testing.T) {
	t.Parallel()
	shared := apperr.NotFound("The thing does not exist.")
	a := shared.WithDetail("thing_id", "a")
	b := shared.WithDetail("thing_id", "b")
	require.Nil(t, shared.Detail, "the shared value is not changed")
	require.Equal(t, map[string]any{"thing_id": "a"}, a.Detail)
	require.Equal(t, map[string]any{"thing_id": "b"}, b.Detail)

	field := apperr.Invalid("name", "The name is too long.")
	more := field.WithDetail("max", 64)
	require.Equal(t, map[string]any{"field": "name"}, field.Detail, "an existing detail map is not changed")
	require.Equal(t, map[string]any{"field": "name", "max": 64}, more.Detail)
}

func TestWithDetailKeepsTheRest(t *testing.T) {
	t.Parallel()
	cause := errors.New("boom")
	e := &apperr.Error{Code: apperr.CodeRateLimited, Message: "Slow down.", Err: cause, RetryAfter: 3 * time.Second}
	got := e.WithDetail("scope", "login")
	require.True(t, apperr.Is(got, apperr.CodeRateLimited))
	require.Equal(t, "Slow down.", got.HumanMessage())
	require.ErrorIs(t, got, cause)
	require.Equal(t, 3*time.Second, got.RetryAfter)
}

// TestNoSharedErrorValues walks the product's Go code: no package-level variable may hold
// an apperr value, because WithDetail on a shared value would once have changed it for every
// later use, and because errors are fresh values (STYLE.md rule 15). Build one per use with
// a function instead.
func TestNoSharedErrorValues(t *testing.T) {
	root := filepath.Join("..", "..")
	fset := token.NewFileSet()
	err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			switch d.Name() {
			case "node_modules", ".git", "gen", "web":
				return filepath.SkipDir
			}
			return nil
		}
		if !strings.HasSuffix(path, ".go") || strings.HasSuffix(path, "_test.go") {
			return nil
		}
		f, err := parser.ParseFile(fset, path, nil, 0)
		if err != nil {
			return err
		}
		for _, decl := range f.Decls {
			gd, ok := decl.(*ast.GenDecl)
			if !ok || gd.Tok != token.VAR {
				continue
			}
			for _, spec := range gd.Specs {
				for _, v := range spec.(*ast.ValueSpec).Values {
					if holdsAppErr(v) {
						t.Errorf("%s: a package-level variable holds an apperr value: build it with a function per use",
							fset.Position(v.Pos()))
					}
				}
			}
		}
		return nil
	})
	require.NoError(t, err)
}

// holdsAppErr reports whether expr builds an apperr value outside a function literal.
func holdsAppErr(expr ast.Expr) bool {
	found := false
	ast.Inspect(expr, func(n ast.Node) bool {
		switch x := n.(type) {
		case *ast.FuncLit:
			return false
		case *ast.CallExpr:
			if sel, ok := x.Fun.(*ast.SelectorExpr); ok {
				if id, ok := sel.X.(*ast.Ident); ok && id.Name == "apperr" {
					found = true
				}
			}
		case *ast.CompositeLit:
			if sel, ok := x.Type.(*ast.SelectorExpr); ok {
				if id, ok := sel.X.(*ast.Ident); ok && id.Name == "apperr" && sel.Sel.Name == "Error" {
					found = true
				}
			}
		}
		return !found
	})
	return found
}
