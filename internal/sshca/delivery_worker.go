package sshca

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/riverqueue/river"
	"github.com/riverqueue/river/rivertype"

	dbq "github.com/openwatch/openwatch/gen/db"
	"github.com/openwatch/openwatch/internal/pg"
	"github.com/openwatch/openwatch/internal/sshx"
)

// Inserter enqueues jobs inside a transaction; *river.Client[pgx.Tx] satisfies it.
type Inserter interface {
	InsertTx(ctx context.Context, tx pgx.Tx, args river.JobArgs, opts *river.InsertOpts) (*rivertype.JobInsertResult, error)
}

// HostSession runs commands on a host; *hostssh.Conn satisfies it.
type HostSession interface {
	Batch(ctx context.Context, cmds []sshx.Command, privileged bool) (sshx.BatchResult, error)
	Close() error
}

// ConnectFunc opens a session to a host verified by its pinned key
// (hostssh.Connector.ConnectPinned).
type ConnectFunc func(ctx context.Context, hostID uuid.UUID) (HostSession, error)

// Delivery installs host certificates and the KRL on hosts.
type Delivery struct {
	Jobs    Inserter
	Connect ConnectFunc
}

// maxDeliveryError bounds the bytes of a failure kept in delivery_error.
const maxDeliveryError = 2048

// EnableDelivery makes issue, renew and reissue queue a delivery of the new certificate,
// and revocations and user CA rotations a delivery of the KRL and the trusted user CA
// keys to every host OpenWatch keeps its files on (again at the end of the rotation's
// overlap); the workers run them (RegisterDelivery).
func (s *Service) EnableDelivery(d Delivery) { s.delivery = &d }

// DeliverArgs is the job that installs a host's newest certificate and the current KRL
// on the host (Deliver).
type DeliverArgs struct {
	HostID uuid.UUID `json:"host_id"`
}

// Kind names the job kind.
func (DeliverArgs) Kind() string { return "ssh_certificate_delivery" }

// InsertOpts: three attempts; a later change queues a new delivery anyway.
func (DeliverArgs) InsertOpts() river.InsertOpts { return river.InsertOpts{MaxAttempts: 3} }

type deliverWorker struct {
	river.WorkerDefaults[DeliverArgs]
	svc *Service
}

// Work delivers and records the outcome on the certificate.
func (w *deliverWorker) Work(ctx context.Context, job *river.Job[DeliverArgs]) error {
	return w.svc.Deliver(ctx, job.Args.HostID)
}

// RegisterDelivery adds the delivery worker.
func (s *Service) RegisterDelivery(workers *river.Workers) {
	river.AddWorker(workers, &deliverWorker{svc: s})
	river.AddWorker(workers, &trustDeliveryWorker{svc: s})
}

// queueDelivery queues the delivery to hostID inside tx, when delivery is enabled.
func (s *Service) queueDelivery(ctx context.Context, tx pgx.Tx, hostID uuid.UUID) error {
	if s.delivery == nil || s.delivery.Jobs == nil {
		return nil
	}
	_, err := s.delivery.Jobs.InsertTx(ctx, tx, DeliverArgs{HostID: hostID}, nil)
	return err
}

// queueTrustDelivery queues a delivery to every host OpenWatch keeps its files on (the
// KRL or the trusted user CA keys changed): the hosts with an issued certificate and those
// with a pinned key whose credential is a certificate credential.
func (s *Service) queueTrustDelivery(ctx context.Context, tx pgx.Tx) error {
	if s.delivery == nil || s.delivery.Jobs == nil {
		return nil
	}
	hosts, err := s.q.WithTx(tx).SSHTrustDeliveryHosts(ctx, s.now())
	if err != nil {
		return pg.Translate(err)
	}
	for _, h := range hosts {
		if err := s.queueDelivery(ctx, tx, h); err != nil {
			return err
		}
	}
	return nil
}

// scheduleTrustDelivery queues, inside tx, a TrustDeliveryArgs job that runs at at (the
// end of a rotation's overlap, when the KRL and the trusted keys change again).
func (s *Service) scheduleTrustDelivery(ctx context.Context, tx pgx.Tx, at time.Time) error {
	if s.delivery == nil || s.delivery.Jobs == nil {
		return nil
	}
	_, err := s.delivery.Jobs.InsertTx(ctx, tx, TrustDeliveryArgs{}, &river.InsertOpts{ScheduledAt: at, MaxAttempts: 3})
	return err
}

// TrustDeliveryArgs is the job that queues a delivery to every host OpenWatch keeps its
// files on; a user CA rotation schedules one at the end of its overlap, when the
// rotated-out key leaves the trusted keys and joins the KRL.
type TrustDeliveryArgs struct{}

// Kind names the job kind.
func (TrustDeliveryArgs) Kind() string { return "ssh_ca_trust_delivery" }

type trustDeliveryWorker struct {
	river.WorkerDefaults[TrustDeliveryArgs]
	svc *Service
}

// Work queues the deliveries.
func (w *trustDeliveryWorker) Work(ctx context.Context, _ *river.Job[TrustDeliveryArgs]) error {
	return w.svc.QueueTrustDelivery(ctx)
}

// QueueTrustDelivery queues a delivery to every host OpenWatch keeps its files on (a
// no-op when delivery is off).
func (s *Service) QueueTrustDelivery(ctx context.Context) error {
	return pg.WithTx(ctx, s.pool, func(tx pgx.Tx) error { return s.queueTrustDelivery(ctx, tx) })
}

// Deliver installs OpenWatch's files on the host over SSH (verified by its pinned key), in
// the one layout the enrollment script also writes (layout.go): the trusted user CA keys
// (the active key and those still in their overlap), the current KRL, the host's newest
// issued certificate next to its host key when it has one, and the drop-in naming them
// (DropIn). The files of the previous layout are removed. sshd -t checks the result and
// sshd -T must show the drop-in's RevokedKeys in effect (the previous files are put back
// when either fails), then sshd is reloaded through systemctl when systemd runs, else by
// SIGHUP to the process in /run/sshd.pid. The outcome is recorded on the certificate
// (delivered_at, or delivery_error) when the host has one; without one a failure is the
// job's error. Deliveries to one host run one at a time (an advisory lock). A connection
// failure is returned (the job retries); a script the host refused on a host with a
// certificate is only recorded.
func (s *Service) Deliver(ctx context.Context, hostID uuid.UUID) error {
	if s.delivery == nil || s.delivery.Connect == nil {
		return errors.New("deliver host certificate: delivery is not enabled")
	}
	// One delivery to a host at a time: the lock is held until the delivery is recorded.
	return pg.WithTx(ctx, s.pool, func(tx pgx.Tx) error {
		if err := s.q.WithTx(tx).SSHCertDeliveryLock(ctx, hostID.String()); err != nil {
			return pg.Translate(err)
		}
		return s.deliver(ctx, hostID)
	})
}

func (s *Service) deliver(ctx context.Context, hostID uuid.UUID) error {
	row, err := s.q.SSHHostCertNewestIssued(ctx, dbq.SSHHostCertNewestIssuedParams{HostID: hostID, Now: s.now()})
	if err = pg.IgnoreNotFound(err); err != nil {
		return err
	}
	hasCert := row.ID != uuid.Nil
	record := func(failure error) error {
		if !hasCert {
			return failure
		}
		return s.recordDelivery(ctx, row.ID, failure)
	}
	userCA, err := s.Get(ctx, KindUser)
	if err != nil {
		return err
	}
	krl, err := s.KRL(ctx)
	if err != nil {
		return err
	}
	files := hostFiles{UserCAKeys: userCA.ReadyLines(), KRL: krl}
	if hasCert {
		files.KeyType, files.Certificate = row.KeyType, row.Certificate
	}
	script, err := deliveryScript(files)
	if err != nil {
		return record(err)
	}
	err = record(s.runDelivery(ctx, hostID, script))
	var refused *scriptError
	if hasCert && errors.As(err, &refused) {
		// The host refused the files (sshd -t, no way to reload): recorded, and trying
		// again would only repeat it; the next change queues a new delivery.
		return nil
	}
	return err
}

// scriptError is a delivery script that ran and failed on the host.
type scriptError struct {
	exit   int
	stderr string
}

func (e *scriptError) Error() string {
	return fmt.Sprintf("the delivery script failed (exit %d): %s", e.exit, e.stderr)
}

func (s *Service) runDelivery(ctx context.Context, hostID uuid.UUID, script string) error {
	sess, err := s.delivery.Connect(ctx, hostID)
	if err != nil {
		return err
	}
	defer func() { _ = sess.Close() }()
	res, err := sess.Batch(ctx, []sshx.Command{{Name: "deliver", Script: script}}, true)
	if err != nil {
		return err
	}
	r, ok := res.Result("deliver")
	if !ok {
		return errors.New("the delivery script did not run")
	}
	if !r.OK() {
		return &scriptError{exit: r.ExitCode, stderr: strings.TrimSpace(string(r.Stderr))}
	}
	return nil
}

// recordDelivery stores the outcome of a delivery and returns its error (failure itself
// when stored).
func (s *Service) recordDelivery(ctx context.Context, id uuid.UUID, failure error) error {
	p := dbq.SSHHostCertSetDeliveryParams{ID: id}
	if failure == nil {
		now := s.now()
		p.DeliveredAt = &now
	} else {
		msg := failure.Error()
		if len(msg) > maxDeliveryError {
			msg = msg[:maxDeliveryError]
		}
		p.DeliveryError = &msg
	}
	if err := s.q.SSHHostCertSetDelivery(context.WithoutCancel(ctx), p); err != nil {
		return errors.Join(failure, pg.Translate(err))
	}
	return failure
}

// keyFileType maps a host key type to the name OpenSSH gives its key file.
func keyFileType(keyType string) (string, error) {
	switch {
	case keyType == "ssh-ed25519":
		return "ed25519", nil
	case strings.HasPrefix(keyType, "ecdsa-sha2-"):
		return "ecdsa", nil
	case keyType == "ssh-rsa":
		return "rsa", nil
	}
	return "", fmt.Errorf("no host key file is known for key type %q", keyType)
}

// hostFiles is what a delivery installs on a host.
type hostFiles struct {
	UserCAKeys string // the TrustedUserCAKeys content
	KRL        []byte
	// KeyType and Certificate (authorized_keys format) are the host certificate; both
	// empty when the host has none.
	KeyType, Certificate string
}

// deliveryScript renders the POSIX sh script that installs files on a host, run as root.
func deliveryScript(f hostFiles) (string, error) {
	certPath := ""
	install := []struct{ path, content string }{
		{UserCAKeysPath, f.UserCAKeys},
		{KRLPath, string(f.KRL)},
	}
	if f.Certificate != "" {
		var err error
		if certPath, err = HostCertificatePath(f.KeyType); err != nil {
			return "", err
		}
		cert := strings.TrimSpace(f.Certificate)
		if strings.ContainsAny(cert, "\n\r") {
			return "", errors.New("the certificate is not a single authorized_keys line")
		}
		install = append(install, struct{ path, content string }{certPath, cert + "\n"})
	}
	install = append(install, struct{ path, content string }{DropInPath, DropIn(certPath)})
	var b strings.Builder
	b.WriteString("set -eu\numask 022\nsshd=$(command -v sshd || echo /usr/sbin/sshd)\n")
	fmt.Fprintf(&b, "mkdir -p %s %s\n", LayoutDir, DropInDir)
	var paths []string
	for _, file := range install {
		fmt.Fprintf(&b, "printf '%%s' '%s' | base64 -d > '%s.new'\n", base64.StdEncoding.EncodeToString([]byte(file.content)), file.path)
		paths = append(paths, file.path)
	}
	fmt.Fprintf(&b, "files='%s'\nold='%s %s'\n", strings.Join(paths, " "), legacyDropInPath, legacyKRLPath)
	fmt.Fprintf(&b, "want='revokedkeys %s'\n", KRLPath)
	b.WriteString(`for f in $files; do
  if [ -e "$f" ]; then cp -p "$f" "$f.openwatch-prev"; fi
  mv "$f.new" "$f"
done
for f in $old; do
  if [ -e "$f" ]; then mv "$f" "$f.openwatch-prev"; fi
done
restore() {
  for f in $files; do
    if [ -e "$f.openwatch-prev" ]; then mv "$f.openwatch-prev" "$f"; else rm -f "$f"; fi
  done
  for f in $old; do
    if [ -e "$f.openwatch-prev" ]; then mv "$f.openwatch-prev" "$f"; fi
  done
}
if ! out=$("$sshd" -t 2>&1); then
  restore
  echo "sshd -t refused the configuration, the previous files are back: $out" >&2
  exit 2
fi
if ! "$sshd" -T 2>/dev/null | grep -qix "$want"; then
  restore
  echo "sshd does not read the OpenWatch drop-in (its RevokedKeys is not in effect; does sshd_config include sshd_config.d/*.conf first?), the previous files are back" >&2
  exit 2
fi
for f in $files $old; do rm -f "$f.openwatch-prev"; done
if [ -d /run/systemd/system ]; then
  systemctl reload ssh.service 2>/dev/null || systemctl reload sshd.service
elif [ -s /run/sshd.pid ]; then
  kill -HUP "$(cat /run/sshd.pid)"
else
  echo "sshd was not reloaded: systemd is not running and /run/sshd.pid is missing" >&2
  exit 3
fi
`)
	return b.String(), nil
}

// deliveryTimeout bounds one delivery.
const deliveryTimeout = 2 * time.Minute

// Timeout bounds one delivery job.
func (w *deliverWorker) Timeout(*river.Job[DeliverArgs]) time.Duration { return deliveryTimeout }
