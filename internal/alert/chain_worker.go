package alert

import (
	"context"
	"fmt"

	"github.com/jackc/pgx/v5"
	"github.com/riverqueue/river"

	"github.com/openwatch/openwatch/internal/audit"
	"github.com/openwatch/openwatch/internal/pg"
)

// AlertAuditChainBroken is the alert_type raised when the audit chain fails verification.
const AlertAuditChainBroken = "audit_chain_broken"

// auditChainKey is the one dedup key of the audit chain's alert.
const auditChainKey = AlertAuditChainBroken

// ChainVerifier verifies the audit chain; *audit.Writer implements it.
type ChainVerifier interface {
	Verify(ctx context.Context) (audit.Result, error)
}

// VerifyChain verifies the audit chain with the service's verifier, records the verdict
// as the chain's last check (audit.RecordCheckTx, what GET /audit/integrity reads) and
// keeps the audit_chain_broken alert in step, in one transaction: a broken chain raises it
// (critical; the result in its tags; a chain still broken at the next run counts an
// occurrence), an intact chain resolves it. The periodic job calls it; it returns the
// result. Errors: those of reading the database (the chain is then not judged).
func (s *Service) VerifyChain(ctx context.Context) (audit.Result, error) {
	if s.chain == nil {
		return audit.Result{}, fmt.Errorf("verify audit chain: no verifier configured")
	}
	res, err := s.chain.Verify(ctx)
	if err != nil {
		return audit.Result{}, err
	}
	at := s.now()
	err = pg.WithTx(ctx, s.pool, func(tx pgx.Tx) error {
		if err := audit.RecordCheckTx(ctx, tx, res, at); err != nil {
			return err
		}
		if res.OK {
			_, err := AutoResolveTx(ctx, tx, s.audit, auditChainKey, at)
			return err
		}
		tags := map[string]any{"ok": false, "checked": res.Checked, "reason": res.Reason}
		body := "Verification of the audit trail found: " + res.Reason + "."
		if res.FirstBrokenSeq != nil {
			tags["first_broken_seq"] = *res.FirstBrokenSeq
			body = fmt.Sprintf("Verification of the audit trail found the chain broken at seq %d: %s. "+
				"Events before it (%d) verified.", *res.FirstBrokenSeq, res.Reason, res.Checked)
		}
		_, err := RaiseTx(ctx, tx, Raise{DedupKey: auditChainKey, AlertType: AlertAuditChainBroken, Severity: "critical",
			Title: "The audit chain failed verification",
			Body:  body + " Someone may have altered or deleted audit events; the alert resolves itself when the chain verifies again.",
			Tags:  tags, At: at})
		return err
	})
	if err != nil {
		return audit.Result{}, err
	}
	return res, nil
}

// ChainVerifyArgs is the periodic job that verifies the audit chain (VerifyChain).
type ChainVerifyArgs struct{}

// Kind names the job kind.
func (ChainVerifyArgs) Kind() string { return "alert_audit_chain_verify" }

// InsertOpts: a failed run is not retried; the next period makes up for it.
func (ChainVerifyArgs) InsertOpts() river.InsertOpts { return river.InsertOpts{MaxAttempts: 1} }

type chainWorker struct {
	river.WorkerDefaults[ChainVerifyArgs]
	svc *Service
}

// Work verifies the chain and records the verdict as the job's output, so each run
// (its time and result) stays on the job's row.
func (w *chainWorker) Work(ctx context.Context, _ *river.Job[ChainVerifyArgs]) error {
	res, err := w.svc.VerifyChain(ctx)
	if err != nil {
		return err
	}
	if !res.OK {
		w.svc.log.ErrorContext(ctx, "the audit chain failed verification", "checked", res.Checked,
			"first_broken_seq", res.FirstBrokenSeq, "reason", res.Reason)
	}
	return river.RecordOutput(ctx, map[string]any{"ok": res.OK, "checked": res.Checked,
		"first_broken_seq": res.FirstBrokenSeq, "reason": res.Reason})
}
