package scan

import (
	"context"
	"fmt"
	"maps"
	"slices"

	"github.com/jackc/pgx/v5"

	dbq "github.com/openwatch/openwatch/gen/db"
	"github.com/openwatch/openwatch/internal/apperr"
	"github.com/openwatch/openwatch/internal/audit"
	"github.com/openwatch/openwatch/internal/authz"
	"github.com/openwatch/openwatch/internal/pg"
)

// VariableValue is a corpus variable with the installation's value (nil: the default
// applies).
type VariableValue struct {
	Variable
	Value *string
}

// Variables returns every rule variable with the installation's value.
func (s *Service) Variables(ctx context.Context) ([]VariableValue, error) {
	site, err := s.variables(ctx)
	if err != nil {
		return nil, err
	}
	return withValues(s.cat.Variables(), site), nil
}

func withValues(vars []Variable, site map[string]string) []VariableValue {
	out := make([]VariableValue, len(vars))
	for i, v := range vars {
		out[i] = VariableValue{Variable: v}
		if val, ok := site[v.Name]; ok {
			out[i].Value = &val
		}
	}
	return out
}

// SetVariables sets (or, with nil, clears) the installation's values of the named
// variables, audited with the old and new values. An unknown name is a 400 naming it.
func (s *Service) SetVariables(ctx context.Context, values map[string]*string) ([]VariableValue, error) {
	known := map[string]bool{}
	vars := s.cat.Variables()
	for _, v := range vars {
		known[v.Name] = true
	}
	names := slices.Sorted(maps.Keys(values))
	for _, name := range names {
		if !known[name] {
			return nil, apperr.Invalid("values."+name, fmt.Sprintf("No rule uses a variable named %q.", name))
		}
	}
	p := authz.PrincipalFrom(ctx)
	var site map[string]string
	err := pg.WithTx(ctx, s.pool, func(tx pgx.Tx) error {
		q := dbq.New(tx)
		rows, err := q.ScanVariablesLock(ctx)
		if err != nil {
			return err
		}
		site = make(map[string]string, len(rows))
		for _, r := range rows {
			site[r.Name] = r.Value
		}
		changes := map[string]any{}
		for _, name := range names {
			old, had := site[name]
			switch v := values[name]; {
			case v == nil && had:
				if err := q.ScanVariableClear(ctx, name); err != nil {
					return err
				}
				delete(site, name)
				changes[name] = map[string]any{"old": old, "new": nil}
			case v != nil && (!had || old != *v):
				if err := q.ScanVariableSet(ctx, dbq.ScanVariableSetParams{Name: name, Value: *v, UpdatedAt: s.now(), UpdatedBy: p.Actor().String()}); err != nil {
					return err
				}
				site[name] = *v
				var was any
				if had {
					was = old
				}
				changes[name] = map[string]any{"old": was, "new": *v}
			}
		}
		if len(changes) == 0 {
			return nil
		}
		return s.aw.Append(ctx, tx, audit.For(ctx, p, audit.ActionScanVariablesChanged, "scan_variables", "", map[string]any{"changes": changes}))
	})
	if err != nil {
		return nil, pg.Translate(err)
	}
	return withValues(vars, site), nil
}

// SiteVariables returns the installation's variable values by name (unset ones absent).
func (s *Service) SiteVariables(ctx context.Context) (map[string]string, error) {
	return s.variables(ctx)
}
