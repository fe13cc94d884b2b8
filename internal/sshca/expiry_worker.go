package sshca

import (
	"context"
	"fmt"
	"slices"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/riverqueue/river"

	dbq "github.com/openwatch/openwatch/gen/db"
	"github.com/openwatch/openwatch/internal/alert"
	"github.com/openwatch/openwatch/internal/apperr"
	"github.com/openwatch/openwatch/internal/audit"
	"github.com/openwatch/openwatch/internal/authz"
	"github.com/openwatch/openwatch/internal/pg"
	"github.com/openwatch/openwatch/internal/settings"
)

// AlertCertExpiring is the alert_type raised for a host certificate close to its end.
const AlertCertExpiring = "ssh_certificate_expiring"

// SettingsKey is the settings document holding ExpiryConfig.
const SettingsKey = "ssh_certificates"

// ExpiryConfig is when expiring host certificates alert, and whether they renew
// themselves.
type ExpiryConfig struct {
	// WarnDays: an issued certificate expiring within this many days raises
	// ssh_certificate_expiring (medium; critical within CriticalWindow).
	WarnDays int `json:"warn_days"`
	// AutoRenew renews such a certificate (same key and principals, DefaultHostCertValidity)
	// instead of alerting.
	AutoRenew bool `json:"auto_renew"`
}

// DefaultExpiryConfig is the configuration before an operator changes it.
var DefaultExpiryConfig = ExpiryConfig{WarnDays: 14}

// The severities of ssh_certificate_expiring: a warning (the alerts' "medium") until
// CriticalWindow, then critical.
const (
	severityWarning  = "medium"
	severityCritical = "critical"
)

// CriticalWindow is how close to its end an expiring certificate's alert is critical.
const CriticalWindow = 3 * 24 * time.Hour

// ExpiryInterval is how often the expiry check runs.
const ExpiryInterval = time.Hour

// expiryKey is the dedup key of a certificate's expiry alert of a severity.
func expiryKey(certID fmt.Stringer, severity string) string {
	return AlertCertExpiring + ":" + certID.String() + ":" + severity
}

// ExpiryResult is what one expiry check did.
type ExpiryResult struct {
	Raised, Renewed, Resolved int
}

// CheckExpiry raises ssh_certificate_expiring for every issued certificate of a live host
// that expires within the configured days and was not renewed (critical within
// CriticalWindow, and for one already expired), or renews it when auto_renew is on, and
// resolves the alerts of certificates renewed, revoked or no longer close to their end;
// one transaction. The periodic job calls it.
func (s *Service) CheckExpiry(ctx context.Context) (ExpiryResult, error) {
	var out ExpiryResult
	err := pg.WithTx(ctx, s.pool, func(tx pgx.Tx) error {
		out = ExpiryResult{}
		q := s.q.WithTx(tx)
		cfg, err := settings.Load(ctx, tx, SettingsKey, DefaultExpiryConfig)
		if err != nil {
			return err
		}
		now := s.now()
		rows, err := q.SSHHostCertExpiring(ctx, now.Add(time.Duration(cfg.WarnDays)*24*time.Hour))
		if err != nil {
			return pg.Translate(err)
		}
		live, err := q.SSHCertExpiringAlertKeys(ctx)
		if err != nil {
			return pg.Translate(err)
		}
		keep := map[string]bool{}
		for _, r := range rows {
			if cfg.AutoRenew && r.ValidBefore.After(now) {
				if _, err := s.renewTx(ctx, tx, nil, r.ID, DefaultHostCertValidity); err != nil {
					return err
				}
				out.Renewed++
				continue
			}
			severity := severityWarning
			if r.ValidBefore.Sub(now) < CriticalWindow {
				severity = severityCritical
			}
			key := expiryKey(r.ID, severity)
			keep[key] = true
			if slices.Contains(live, key) {
				continue
			}
			if err := s.raiseExpiring(ctx, tx, r, severity, now); err != nil {
				return err
			}
			out.Raised++
		}
		for _, key := range live {
			if keep[key] {
				continue
			}
			resolved, err := alert.AutoResolveTx(ctx, tx, s.aw, key, now)
			if err != nil {
				return err
			}
			out.Resolved += len(resolved)
		}
		return nil
	})
	return out, err
}

func (s *Service) raiseExpiring(ctx context.Context, tx pgx.Tx, r dbq.SshHostCertificate, severity string, now time.Time) error {
	host := r.HostID
	when := r.ValidBefore.UTC().Format(time.RFC3339)
	title := fmt.Sprintf("SSH host certificate %d expires at %s", r.Serial, when)
	if !r.ValidBefore.After(now) {
		title = fmt.Sprintf("SSH host certificate %d expired at %s", r.Serial, when)
	}
	_, err := alert.RaiseTx(ctx, tx, alert.Raise{DedupKey: expiryKey(r.ID, severity), AlertType: AlertCertExpiring,
		Severity: severity, HostID: &host, Title: title,
		Body: "Renew or reissue the host's certificate; connections fail closed once it has expired. " +
			"The alert resolves itself when the certificate is renewed or revoked.",
		Tags: map[string]any{"certificate_id": r.ID.String(), "serial": r.Serial, "valid_before": when}, At: now})
	return err
}

// ExpiryArgs is the periodic job that checks host certificate expiry (CheckExpiry).
type ExpiryArgs struct{}

// Kind names the job kind.
func (ExpiryArgs) Kind() string { return "ssh_certificate_expiry" }

// InsertOpts: a failed run is not retried; the next period makes up for it.
func (ExpiryArgs) InsertOpts() river.InsertOpts { return river.InsertOpts{MaxAttempts: 1} }

type expiryWorker struct {
	river.WorkerDefaults[ExpiryArgs]
	svc *Service
}

// Work runs one check and records what it did as the job's output.
func (w *expiryWorker) Work(ctx context.Context, _ *river.Job[ExpiryArgs]) error {
	res, err := w.svc.CheckExpiry(ctx)
	if err != nil {
		return err
	}
	return river.RecordOutput(ctx, map[string]any{"raised": res.Raised, "renewed": res.Renewed, "resolved": res.Resolved})
}

// RegisterJobs adds the expiry worker and returns its periodic job.
func (s *Service) RegisterJobs(workers *river.Workers) []*river.PeriodicJob {
	river.AddWorker(workers, &expiryWorker{svc: s})
	return []*river.PeriodicJob{river.NewPeriodicJob(river.PeriodicInterval(ExpiryInterval),
		func() (river.JobArgs, *river.InsertOpts) { return ExpiryArgs{}, nil },
		&river.PeriodicJobOpts{RunOnStart: true, ID: ExpiryArgs{}.Kind()})}
}

// Validate reports the first field out of range.
func (c ExpiryConfig) Validate() error {
	if c.WarnDays < 1 || c.WarnDays > 365 {
		return apperr.Invalid("warn_days", "warn_days must be between 1 and 365")
	}
	return nil
}

// ExpiryConfig returns the stored expiry settings over DefaultExpiryConfig. Guarded by
// system:read.
func (s *Service) ExpiryConfig(ctx context.Context) (ExpiryConfig, error) {
	return settings.Load(ctx, s.pool, SettingsKey, DefaultExpiryConfig)
}

// SetExpiryConfig stores the expiry settings, audited with the values before and after.
// Guarded by system:config:write. Errors: validation.
func (s *Service) SetExpiryConfig(ctx context.Context, actor *authz.Principal, cfg ExpiryConfig) (ExpiryConfig, error) {
	if err := cfg.Validate(); err != nil {
		return ExpiryConfig{}, err
	}
	err := pg.WithTx(ctx, s.pool, func(tx pgx.Tx) error {
		before, err := settings.Load(ctx, tx, SettingsKey, DefaultExpiryConfig)
		if err != nil {
			return err
		}
		if err := settings.Save(ctx, tx, SettingsKey, cfg, actor); err != nil {
			return err
		}
		return s.aw.Append(ctx, tx, audit.For(ctx, actor, audit.ActionSSHCertConfigChanged, "settings", SettingsKey,
			map[string]any{"before": before, "after": cfg}))
	})
	if err != nil {
		return ExpiryConfig{}, err
	}
	return cfg, nil
}
