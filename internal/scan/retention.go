package scan

import (
	"context"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	dbq "github.com/openwatch/openwatch/gen/db"
	"github.com/openwatch/openwatch/internal/audit"
	"github.com/openwatch/openwatch/internal/authz"
	"github.com/openwatch/openwatch/internal/pg"
)

// defaultRetentionBatch is how many rows one retention statement deletes at most: small
// enough that no delete holds its locks for long.
const defaultRetentionBatch = 5000

// evidenceCandidates is how many deletable evidence rows are read at once. Finding them
// reads the current results and the period's transitions whole, so it is done once per
// this many rows rather than once per batch.
const evidenceCandidates = 100_000

// RetentionResult says what one retention run deleted.
type RetentionResult struct {
	Scans    int64 `json:"scans"`
	Evidence int64 `json:"evidence"`
}

// ApplyRetention deletes what the configuration no longer keeps:
//   - ended scans (completed, failed, cancelled) created more than scan_retention_days
//     ago, except those a current result names (rule_states.scan_id): the evidence of a
//     current result is read through its scan;
//   - evidence stored more than evidence_retention_days ago that no current result uses
//     and no transition within the period uses.
//
// Results and their transitions are never deleted: they are the history. Each batch of
// at most Options.RetentionBatch rows is deleted in its own transaction with its audit
// event (system.scan_retention_applied, written only when the batch deleted something),
// so a large backlog never holds locks for long. The periodic job scan_retention runs it.
func (s *Service) ApplyRetention(ctx context.Context) (RetentionResult, error) {
	cfg, err := LoadScheduleConfig(ctx, s.pool)
	if err != nil {
		return RetentionResult{}, err
	}
	now := s.now()
	var res RetentionResult
	res.Scans, err = s.deleteOldScans(ctx, now.AddDate(0, 0, -cfg.ScanRetentionDays))
	if err != nil {
		return res, err
	}
	res.Evidence, err = s.deleteOldEvidence(ctx, now.AddDate(0, 0, -cfg.EvidenceRetentionDays))
	return res, err
}

// deleteOldScans walks the ended scans created before cutoff, oldest first, one batch per
// transaction, and deletes those no current result names.
func (s *Service) deleteOldScans(ctx context.Context, cutoff time.Time) (int64, error) {
	batch := s.opts.RetentionBatch
	p := dbq.ScanRetentionDeleteParams{Cutoff: cutoff, BatchSize: int32(batch),
		AfterCreatedAt: time.Unix(0, 0).UTC(), AfterID: uuid.Nil}
	var total int64
	for {
		var row dbq.ScanRetentionDeleteRow
		err := pg.WithTx(ctx, s.pool, func(tx pgx.Tx) error {
			var err error
			if row, err = dbq.New(tx).ScanRetentionDelete(ctx, p); err != nil || row.Deleted == 0 {
				return err
			}
			return s.auditRetention(ctx, tx, map[string]any{"scans": row.Deleted, "created_before": cutoff})
		})
		if err != nil {
			return total, pg.Translate(err)
		}
		total += row.Deleted
		if row.Examined < int64(batch) {
			return total, nil
		}
		p.AfterCreatedAt, p.AfterID = row.LastCreatedAt, row.LastID
	}
}

// deleteOldEvidence deletes the evidence stored before cutoff that nothing kept uses, in
// batches. A scan that uses such evidence again between the read and the delete moves its
// created_at forward (EvidenceInsert), and the delete keeps it.
func (s *Service) deleteOldEvidence(ctx context.Context, cutoff time.Time) (int64, error) {
	batch := s.opts.RetentionBatch
	var total int64
	for {
		hashes, err := s.q.EvidenceRetentionCandidates(ctx, dbq.EvidenceRetentionCandidatesParams{Cutoff: cutoff, RowLimit: evidenceCandidates})
		if err != nil {
			return total, pg.Translate(err)
		}
		for start := 0; start < len(hashes); start += batch {
			chunk := hashes[start:min(start+batch, len(hashes))]
			var n int64
			err := pg.WithTx(ctx, s.pool, func(tx pgx.Tx) error {
				var err error
				if n, err = dbq.New(tx).EvidenceRetentionDelete(ctx, dbq.EvidenceRetentionDeleteParams{Hashes: chunk, Cutoff: cutoff}); err != nil || n == 0 {
					return err
				}
				return s.auditRetention(ctx, tx, map[string]any{"evidence": n, "created_before": cutoff})
			})
			if err != nil {
				return total, pg.Translate(err)
			}
			total += n
		}
		// Every row read was deleted or has been used again since: the next read finds
		// neither, so this ends.
		if len(hashes) < evidenceCandidates {
			return total, nil
		}
	}
}

// auditRetention records, in tx, what one batch deleted. The actor is the system: a
// principal without a user says so even where ctx carries a job's correlation id (with no
// principal at all, audit.For would take the caller for an anonymous request).
func (s *Service) auditRetention(ctx context.Context, tx pgx.Tx, detail map[string]any) error {
	return s.aw.Append(ctx, tx, audit.For(ctx, &authz.Principal{}, audit.ActionScanRetention, "settings", ScheduleSettingsKey, detail))
}

// DeleteEvidenceBefore deletes, in batches, the evidence stored before cutoff that no
// current result uses and no transition since cutoff uses: the results stay, and every
// host's current results (its latest scan's) keep their evidence. The retention policy's
// scan_evidence_days calls it (internal/retention); the scan settings'
// evidence_retention_days applies as well, so the shorter of the two wins.
func (s *Service) DeleteEvidenceBefore(ctx context.Context, cutoff time.Time) (int64, error) {
	return s.deleteOldEvidence(ctx, cutoff)
}
