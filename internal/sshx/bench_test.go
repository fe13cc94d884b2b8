package sshx_test

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"fmt"
	"net"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"golang.org/x/crypto/ssh"

	"github.com/openwatch/openwatch/internal/sshx"
	"github.com/openwatch/openwatch/internal/sshx/sshtest"
)

// benchFarmSize is how many farm endpoints the banner benchmark probes in turn.
const benchFarmSize = 10000

// benchConcurrency is how many probes run at once.
const benchConcurrency = 64

// BenchmarkBanner probes banner-only farm endpoints (distinct addresses and
// ports) with benchConcurrency probes in flight and reports probes per
// second and per minute.
func BenchmarkBanner(b *testing.B) {
	addrs := sshtest.Farm(b, benchFarmSize)
	var next, failed atomic.Int64
	b.ResetTimer()
	start := time.Now()
	var wg sync.WaitGroup
	for range benchConcurrency {
		wg.Go(func() {
			for {
				i := next.Add(1) - 1
				if i >= int64(b.N) {
					return
				}
				if _, _, err := sshx.Loopback().Banner(context.Background(), addrs[i%int64(len(addrs))], 5*time.Second); err != nil {
					failed.Add(1)
				}
			}
		})
	}
	wg.Wait()
	elapsed := time.Since(start)
	b.StopTimer()
	if failed.Load() > 0 {
		b.Fatalf("%d of %d probes failed", failed.Load(), b.N)
	}
	b.ReportMetric(float64(b.N)/elapsed.Seconds(), "probes/s")
	b.ReportMetric(float64(b.N)/elapsed.Minutes(), "probes/min")
}

// discoveryLike is a batch shaped like a discovery job.
var discoveryLike = func() []sshx.Command {
	cmds := []sshx.Command{
		{Name: "os-release", Script: "cat /etc/os-release"},
		{Name: "uname", Script: "uname -srm"},
		{Name: "hostname", Script: "hostname; hostname -f 2>/dev/null || true"},
		{Name: "meminfo", Script: "grep -E '^(MemTotal|SwapTotal):' /proc/meminfo"},
		{Name: "df", Script: "df -Pk / | tail -n 1"},
		{Name: "selinux", Script: "command -v getenforce >/dev/null && getenforce || echo none"},
		{Name: "apparmor", Script: "cat /sys/module/apparmor/parameters/enabled 2>/dev/null || echo N"},
	}
	for i := range 13 {
		cmds = append(cmds, sshx.Command{Name: fmt.Sprintf("probe%d", i), Script: "test -e /etc/passwd && echo yes"})
	}
	return cmds
}()

// BenchmarkDialBatch measures one job against the real sshd: connect, log in
// with a key, run a privileged 20-command batch under sudo, disconnect.
func BenchmarkDialBatch(b *testing.B) {
	s := sshtest.Start(b, sshtest.Options{})
	u := s.User(sshtest.UserSudo)
	opts := sshx.Options{HostKeys: s.HostKeys()}
	b.ResetTimer()
	for b.Loop() {
		c, err := sshx.Loopback().Dial(context.Background(), s.Addr, u.KeyAuth(), opts)
		if err != nil {
			b.Fatal(err)
		}
		res, err := c.Batch(context.Background(), discoveryLike, sshx.BatchOptions{Privileged: true})
		if err != nil {
			b.Fatal(err)
		}
		if res.Privilege != sshx.PrivSudo || c.SessionsOpened() != 1 {
			b.Fatalf("privilege %q, %d sessions", res.Privilege, c.SessionsOpened())
		}
		_ = c.Close()
	}
}

// BenchmarkDial measures connect plus key login against the real sshd.
func BenchmarkDial(b *testing.B) {
	s := sshtest.Start(b, sshtest.Options{})
	u := s.User(sshtest.UserPlain)
	opts := sshx.Options{HostKeys: s.HostKeys()}
	for b.Loop() {
		c, err := sshx.Loopback().Dial(context.Background(), s.Addr, u.KeyAuth(), opts)
		if err != nil {
			b.Fatal(err)
		}
		_ = c.Close()
	}
}

// BenchmarkFarmLogin measures connect plus key login against in-process
// SSH endpoints, with benchConcurrency logins in flight.
func BenchmarkFarmLogin(b *testing.B) {
	fleet := sshtest.FarmWith(b, 1000, sshtest.FarmOptions{Handshake: true})
	opts := sshx.Options{HostKeys: fleet.HostKeys()}
	var next atomic.Int64
	var firstErr atomic.Value
	start := time.Now()
	var wg sync.WaitGroup
	for range benchConcurrency {
		wg.Go(func() {
			for {
				i := next.Add(1) - 1
				if i >= int64(b.N) {
					return
				}
				c, err := sshx.Loopback().Dial(context.Background(), fleet.Addrs[i%int64(len(fleet.Addrs))], fleet.Auth, opts)
				if err != nil {
					firstErr.CompareAndSwap(nil, err)
					return
				}
				_ = c.Close()
			}
		})
	}
	wg.Wait()
	elapsed := time.Since(start)
	if err := firstErr.Load(); err != nil {
		b.Fatal(err)
	}
	b.ReportMetric(float64(b.N)/elapsed.Minutes(), "logins/min")
}

// BenchmarkBatch measures the privileged 20-command batch alone on an open
// connection (one session per iteration).
func BenchmarkBatch(b *testing.B) {
	s := sshtest.Start(b, sshtest.Options{})
	c := s.Dial(b, sshtest.UserSudo)
	for b.Loop() {
		if _, err := c.Batch(context.Background(), discoveryLike, sshx.BatchOptions{Privileged: true}); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkDialCertificate measures connect plus a certificate login against the real
// sshd, as a certificate credential logs in: a fresh ed25519 key and a 5-minute user
// certificate minted per connection (here by an in-memory CA; the server's CA adds one
// query and an unseal). Compare with BenchmarkDial (a stored key).
func BenchmarkDialCertificate(b *testing.B) {
	_, caPriv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		b.Fatal(err)
	}
	ca, err := ssh.NewSignerFromKey(caPriv)
	if err != nil {
		b.Fatal(err)
	}
	s := sshtest.Start(b, sshtest.Options{TrustedUserCAKeys: string(ssh.MarshalAuthorizedKey(ca.PublicKey()))})
	u := s.User(sshtest.UserPlain)
	opts := sshx.Options{HostKeys: s.HostKeys()}
	auth := sshx.Auth{Username: u.Name, Certificate: func(_ context.Context, _ net.Addr) ([]ssh.Signer, error) {
		_, priv, err := ed25519.GenerateKey(rand.Reader)
		if err != nil {
			return nil, err
		}
		key, err := ssh.NewSignerFromKey(priv)
		if err != nil {
			return nil, err
		}
		now := time.Now()
		cert := &ssh.Certificate{Key: key.PublicKey(), CertType: ssh.UserCert, KeyId: "bench", ValidPrincipals: []string{u.Name},
			ValidAfter: uint64(now.Add(-time.Minute).Unix()), ValidBefore: uint64(now.Add(5 * time.Minute).Unix())}
		if err := cert.SignCert(rand.Reader, ca); err != nil {
			return nil, err
		}
		signer, err := ssh.NewCertSigner(cert, key)
		if err != nil {
			return nil, err
		}
		return []ssh.Signer{signer}, nil
	}}
	for b.Loop() {
		c, err := sshx.Loopback().Dial(context.Background(), s.Addr, auth, opts)
		if err != nil {
			b.Fatal(err)
		}
		_ = c.Close()
	}
}
