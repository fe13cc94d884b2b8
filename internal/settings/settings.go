// Package settings keeps the runtime settings that operators change through the API
// (connectivity polling, intelligence collection, discovery, SSH), one JSON document per
// key in the settings table. A missing document, or a field missing from one, reads
// as the default, so adding a field to a settings type needs no migration.
package settings

import (
	"context"
	"encoding/json"
	"fmt"

	dbq "github.com/openwatch/openwatch/gen/db"
	"github.com/openwatch/openwatch/internal/authz"
	"github.com/openwatch/openwatch/internal/pg"
)

// Load returns the settings stored under key decoded over defaults: fields the stored
// document lacks keep their default values.
func Load[T any](ctx context.Context, db dbq.DBTX, key string, defaults T) (T, error) {
	raw, err := dbq.New(db).SettingGet(ctx, key)
	if err != nil {
		return defaults, pg.IgnoreNotFound(err)
	}
	out := defaults
	if err := json.Unmarshal(raw, &out); err != nil {
		return defaults, fmt.Errorf("decode setting %s: %w", key, err)
	}
	return out, nil
}

// Save stores v under key, recording who changed it (the principal's user id; nil for a
// service account or the system). Call it inside the transaction that also writes the
// audit event of the change.
func Save(ctx context.Context, db dbq.DBTX, key string, v any, p *authz.Principal) error {
	raw, err := json.Marshal(v)
	if err != nil {
		return fmt.Errorf("encode setting %s: %w", key, err)
	}
	return pg.Translate(dbq.New(db).SettingPut(ctx, dbq.SettingPutParams{Key: key, Value: raw, UpdatedBy: p.Actor().UserID()}))
}
