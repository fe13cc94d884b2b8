package apperr_test

import (
	"encoding/json"
	"go/ast"
	"go/parser"
	"go/token"
	"io/fs"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	api "github.com/openwatch/openwatch/gen/api"
	"github.com/openwatch/openwatch/internal/apperr"
)

// TestRegistryMatchesSpec: the registry and the spec's ErrorCode enum list the same codes.
func TestRegistryMatchesSpec(t *testing.T) {
	var doc struct {
		Components struct {
			Schemas map[string]struct {
				Enum []string `json:"enum"`
			} `json:"schemas"`
		} `json:"components"`
	}
	require.NoError(t, json.Unmarshal(api.SpecJSON, &doc))
	spec := doc.Components.Schemas["ErrorCode"].Enum
	var reg []string
	for code, s := range apperr.Registry {
		reg = append(reg, string(code))
		require.NotZero(t, s.Status, code)
		require.Contains(t, []apperr.Fault{apperr.FaultClient, apperr.FaultServer, apperr.FaultPolicy, apperr.FaultExternal}, s.Fault, code)
		require.True(t, strings.HasSuffix(s.Message, "."), "default message of %s is a sentence", code)
	}
	sort.Strings(spec)
	sort.Strings(reg)
	require.Equal(t, spec, reg, "apperr.Registry and components.schemas.ErrorCode.enum must list the same codes")
}

// TestEveryCodeUsedAndNoneInvented walks the product's Go code: every registered code
// constant must be used outside the registry, and no code may convert a string to
// apperr.Code, so nothing can emit an unregistered code.
func TestEveryCodeUsedAndNoneInvented(t *testing.T) {
	root := filepath.Join("..", "..")
	used := map[string]bool{}
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
		if !strings.HasSuffix(path, ".go") || strings.HasSuffix(path, "_test.go") || strings.HasSuffix(path, filepath.Join("apperr", "registry.go")) {
			return nil
		}
		f, err := parser.ParseFile(fset, path, nil, 0)
		if err != nil {
			return err
		}
		inApperr := f.Name.Name == "apperr"
		ast.Inspect(f, func(n ast.Node) bool {
			switch x := n.(type) {
			case *ast.SelectorExpr:
				if id, ok := x.X.(*ast.Ident); ok && id.Name == "apperr" && strings.HasPrefix(x.Sel.Name, "Code") {
					used[x.Sel.Name] = true
				}
			case *ast.Ident:
				if inApperr && strings.HasPrefix(x.Name, "Code") {
					used[x.Name] = true
				}
			case *ast.CallExpr:
				if sel, ok := x.Fun.(*ast.SelectorExpr); ok {
					if id, ok := sel.X.(*ast.Ident); ok && id.Name == "apperr" && sel.Sel.Name == "Code" {
						t.Errorf("%s converts a string to apperr.Code: register the code instead", fset.Position(x.Pos()))
					}
				}
				if id, ok := x.Fun.(*ast.Ident); ok && inApperr && id.Name == "Code" {
					t.Errorf("%s converts a string to Code: register the code instead", fset.Position(x.Pos()))
				}
			}
			return true
		})
		return nil
	})
	require.NoError(t, err)

	regFile, err := parser.ParseFile(fset, "registry.go", nil, 0)
	require.NoError(t, err)
	for _, decl := range regFile.Decls {
		gd, ok := decl.(*ast.GenDecl)
		if !ok || gd.Tok != token.CONST {
			continue
		}
		for _, spec := range gd.Specs {
			for _, name := range spec.(*ast.ValueSpec).Names {
				if strings.HasPrefix(name.Name, "Code") {
					require.True(t, used[name.Name], "%s is registered but never emitted", name.Name)
				}
			}
		}
	}
}
