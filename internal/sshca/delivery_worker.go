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

// The files delivery writes on a host.
const (
	sshDir           = "/etc/ssh"
	dropInPath       = "/etc/ssh/sshd_config.d/50-openwatch-certificate.conf"
	krlPath          = "/etc/ssh/openwatch_revoked_keys"
	maxDeliveryError = 2048 // bytes of a failure kept in delivery_error
)

// EnableDelivery makes issue, renew and reissue queue a delivery of the new certificate,
// and revocations a delivery of the KRL to every host with a certificate; the periodic
// workers run them (RegisterDelivery).
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
}

// queueDelivery queues the delivery to hostID inside tx, when delivery is enabled.
func (s *Service) queueDelivery(ctx context.Context, tx pgx.Tx, hostID uuid.UUID) error {
	if s.delivery == nil || s.delivery.Jobs == nil {
		return nil
	}
	_, err := s.delivery.Jobs.InsertTx(ctx, tx, DeliverArgs{HostID: hostID}, nil)
	return err
}

// queueKRLDelivery queues a delivery to every host with a certificate (the KRL changed).
func (s *Service) queueKRLDelivery(ctx context.Context, tx pgx.Tx) error {
	if s.delivery == nil || s.delivery.Jobs == nil {
		return nil
	}
	hosts, err := s.q.WithTx(tx).SSHHostCertDeliveryHosts(ctx, s.now())
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

// Deliver installs the host's newest issued certificate and the current KRL on the host
// over SSH (verified by its pinned key): the certificate next to the host key, an sshd
// drop-in naming it as HostCertificate and the KRL as RevokedKeys, checked with sshd -t
// (the previous files are put back when it fails), then sshd reloaded through systemctl
// when systemd runs, else by SIGHUP to the process in /run/sshd.pid. The outcome is
// recorded on the certificate (delivered_at, or delivery_error). A host without an
// issued certificate gets nothing. Deliveries to one host run one at a time (an advisory
// lock). A connection failure is returned (the job retries); a script the host refused is
// only recorded.
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
	if err != nil {
		return pg.IgnoreNotFound(err)
	}
	krl, err := s.KRL(ctx)
	if err != nil {
		return err
	}
	script, err := deliveryScript(row.KeyType, row.Certificate, krl)
	if err != nil {
		return s.recordDelivery(ctx, row.ID, err)
	}
	err = s.recordDelivery(ctx, row.ID, s.runDelivery(ctx, hostID, script))
	var refused *scriptError
	if errors.As(err, &refused) {
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

// deliveryScript renders the POSIX sh script that installs certificate (authorized_keys
// format) and krl on a host, run as root.
func deliveryScript(keyType, certificate string, krl []byte) (string, error) {
	t, err := keyFileType(keyType)
	if err != nil {
		return "", err
	}
	certificate = strings.TrimSpace(certificate)
	if certificate == "" || strings.ContainsAny(certificate, "'\n\\") {
		return "", errors.New("the certificate is not a single authorized_keys line")
	}
	cert := fmt.Sprintf("%s/ssh_host_%s_key-cert.pub", sshDir, t)
	var b strings.Builder
	fmt.Fprintf(&b, "set -eu\numask 022\ncert=%s\nkrl=%s\nconf=%s\n", cert, krlPath, dropInPath)
	b.WriteString("sshd=$(command -v sshd || echo /usr/sbin/sshd)\nmkdir -p \"$(dirname \"$conf\")\"\n")
	fmt.Fprintf(&b, "printf '%%s\\n' '%s' > \"$cert.new\"\n", certificate)
	fmt.Fprintf(&b, "printf '%%s' '%s' | base64 -d > \"$krl.new\"\n", base64.StdEncoding.EncodeToString(krl))
	b.WriteString(`printf 'HostCertificate %s\nRevokedKeys %s\n' "$cert" "$krl" > "$conf.new"
for f in "$cert" "$krl" "$conf"; do
  if [ -e "$f" ]; then cp -p "$f" "$f.openwatch-prev"; fi
  mv "$f.new" "$f"
done
if ! out=$("$sshd" -t 2>&1); then
  for f in "$cert" "$krl" "$conf"; do
    if [ -e "$f.openwatch-prev" ]; then mv "$f.openwatch-prev" "$f"; else rm -f "$f"; fi
  done
  echo "sshd -t refused the configuration, the previous files are back: $out" >&2
  exit 2
fi
rm -f "$cert.openwatch-prev" "$krl.openwatch-prev" "$conf.openwatch-prev"
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
