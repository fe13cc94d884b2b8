package pg_test

import (
	"context"
	"errors"
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"io/fs"
	"path/filepath"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/stretchr/testify/require"

	"github.com/openwatch/openwatch/internal/apperr"
	"github.com/openwatch/openwatch/internal/pg"
)

func errWidgetNotFound() error { return apperr.NotFound("The widget does not exist.") }

// uniqueViolation is what the driver returns for a duplicate widget name.
func uniqueViolation() error {
	return &pgconn.PgError{Code: "23505", TableName: "widgets", ConstraintName: "widgets_name_key"}
}

func TestNotFoundAs(t *testing.T) {
	t.Parallel()
	t.Run("nil", func(t *testing.T) {
		require.NoError(t, pg.NotFoundAs(nil, errWidgetNotFound()))
	})
	t.Run("noRowsGivesTheCallersError", func(t *testing.T) {
		err := pg.NotFoundAs(fmt.Errorf("get widget: %w", pgx.ErrNoRows), errWidgetNotFound())
		require.True(t, apperr.Is(err, apperr.CodeNotFound), "got %v", err)
		require.Equal(t, "The widget does not exist.", apperr.As(err).HumanMessage())
	})
	t.Run("noRowsAsAnotherKind", func(t *testing.T) {
		err := pg.NotFoundAs(pgx.ErrNoRows, apperr.New(apperr.CodeAuthInvalidToken, "The token is unknown."))
		require.True(t, apperr.Is(err, apperr.CodeAuthInvalidToken), "got %v", err)
	})
	t.Run("otherDriverErrorsAreTranslated", func(t *testing.T) {
		err := pg.NotFoundAs(uniqueViolation(), errWidgetNotFound())
		require.True(t, apperr.Is(err, apperr.CodeConflict), "got %v", err)
		require.Equal(t, "name", apperr.As(err).Detail["field"])
	})
	t.Run("otherErrorsPassThrough", func(t *testing.T) {
		boom := errors.New("boom")
		require.Same(t, boom, pg.NotFoundAs(boom, errWidgetNotFound()))
	})
}

func TestIgnoreNotFound(t *testing.T) {
	t.Parallel()
	require.NoError(t, pg.IgnoreNotFound(nil))
	require.NoError(t, pg.IgnoreNotFound(pgx.ErrNoRows))
	require.NoError(t, pg.IgnoreNotFound(fmt.Errorf("get widget: %w", pgx.ErrNoRows)))

	err := pg.IgnoreNotFound(uniqueViolation())
	require.True(t, apperr.Is(err, apperr.CodeConflict), "got %v", err)

	boom := errors.New("boom")
	require.Same(t, boom, pg.IgnoreNotFound(boom))
}

// TestNoRowsHandledHereOnly walks the product's Go code: only internal/pg may look at
// pgx.ErrNoRows; everything else says what a missing row means with NotFoundAs or
// IgnoreNotFound (or leaves it to Translate).
func TestNoRowsHandledHereOnly(t *testing.T) {
	root := filepath.Join("..", "..")
	pgDir := filepath.Join(root, "internal", "pg")
	fset := token.NewFileSet()
	err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			switch {
			case path == pgDir, d.Name() == "node_modules", d.Name() == ".git", d.Name() == "web":
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
		ast.Inspect(f, func(n ast.Node) bool {
			if sel, ok := n.(*ast.SelectorExpr); ok && sel.Sel.Name == "ErrNoRows" {
				t.Errorf("%s uses ErrNoRows: use pg.NotFoundAs or pg.IgnoreNotFound", fset.Position(sel.Pos()))
			}
			return true
		})
		return nil
	})
	require.NoError(t, err)
}

// TestTranslateDeadline: a deadline passed while waiting for the database is a retryable
// service.unavailable naming the layer, never an internal error; a cancelled context stays
// as it is.
func TestTranslateDeadline(t *testing.T) {
	err := pg.Translate(fmt.Errorf("begin transaction: %w", context.DeadlineExceeded))
	require.True(t, apperr.Is(err, apperr.CodeUnavailable), "%v", err)
	require.Equal(t, "database", apperr.As(err).Detail["layer"])
	require.ErrorIs(t, pg.Translate(context.Canceled), context.Canceled)
	require.False(t, apperr.Is(pg.Translate(context.Canceled), apperr.CodeUnavailable))
}
