package change

import (
	"context"
	"slices"
	"strings"

	"github.com/jackc/pgx/v5"

	dbq "github.com/openwatch/openwatch/gen/db"
	"github.com/openwatch/openwatch/internal/apperr"
	"github.com/openwatch/openwatch/internal/audit"
	"github.com/openwatch/openwatch/internal/authz"
	"github.com/openwatch/openwatch/internal/pg"
)

// Settings returns which changes need a second person's approval. Guarded by system:read.
func (s *Service) Settings(ctx context.Context) (dbq.ChangeSetting, error) {
	st, err := s.q.ChangeSettingsGet(ctx)
	return st, pg.Translate(err)
}

// UpdateSettings changes them, audited. Guarded by system:config:write. Errors:
// validation_failed naming approval_environments.
func (s *Service) UpdateSettings(ctx context.Context, actor *authz.Principal, envs []string, remediation bool) (dbq.ChangeSetting, error) {
	clean := make([]string, 0, len(envs))
	for _, e := range envs {
		e = strings.TrimSpace(e)
		if e == "" {
			return dbq.ChangeSetting{}, apperr.Invalid("approval_environments", "An environment name cannot be empty.")
		}
		if !slices.Contains(clean, e) {
			clean = append(clean, e)
		}
	}
	slices.Sort(clean)
	var out dbq.ChangeSetting
	err := pg.WithTx(ctx, s.pool, func(tx pgx.Tx) error {
		q := dbq.New(tx)
		before, err := q.ChangeSettingsGet(ctx)
		if err != nil {
			return err
		}
		out, err = q.ChangeSettingsUpdate(ctx, dbq.ChangeSettingsUpdateParams{ApprovalEnvironments: clean,
			RemediationRequiresApproval: remediation, UpdatedBy: actor.Actor().String()})
		if err != nil {
			return err
		}
		return s.audit.Append(ctx, tx, audit.For(ctx, actor, audit.ActionChangeSettingsChanged, "system", "change_settings",
			map[string]any{"before": map[string]any{"approval_environments": before.ApprovalEnvironments,
				"remediation_requires_approval": before.RemediationRequiresApproval},
				"after": map[string]any{"approval_environments": clean, "remediation_requires_approval": remediation}}))
	})
	return out, pg.Translate(err)
}
