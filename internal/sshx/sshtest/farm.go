package sshtest

import (
	"crypto/ed25519"
	"crypto/rand"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net"
	"os/exec"
	"sync"
	"syscall"
	"testing"
	"time"

	"golang.org/x/crypto/ssh"

	"github.com/openwatch/openwatch/internal/sshx"
)

// FarmBanner is the identification line farm endpoints send.
const FarmBanner = "SSH-2.0-OpenWatchFarm_1.0"

// farmPerAddr is how many endpoints share one loopback address.
const farmPerAddr = 200

// FarmOptions configures FarmWith.
type FarmOptions struct {
	// Handshake makes every endpoint a real SSH server (golang.org/x/crypto)
	// instead of a banner-only listener. It accepts only Fleet.Auth's key and
	// runs exec requests with the local /bin/sh as the test process's user.
	Handshake bool
}

// Fleet is a farm of in-process SSH endpoints on loopback.
type Fleet struct {
	Addrs   []string      // "127.77.x.y:port", one per endpoint
	HostKey ssh.PublicKey // shared by all endpoints (Handshake only)
	Auth    sshx.Auth     // the only accepted login (Handshake only)
}

// HostKeys returns a verifier accepting the farm's host key.
func (f *Fleet) HostKeys() sshx.HostKeyVerifier { return sshx.FixedHostKey(f.HostKey) }

// Farm starts n banner-only endpoints and returns their addresses, spread
// over 127.77.0.0/16 (at most 200 per address), for probe benchmarks.
func Farm(t testing.TB, n int) []string {
	t.Helper()
	return FarmWith(t, n, FarmOptions{}).Addrs
}

// FarmWith starts n endpoints and stops them at the end of the test. Each
// endpoint is its own listening socket, so n is bounded by the open-file
// limit, which FarmWith raises to its hard maximum.
func FarmWith(t testing.TB, n int, opts FarmOptions) *Fleet {
	t.Helper()
	if err := raiseFileLimit(uint64(n) + 1024); err != nil {
		t.Fatalf("sshtest: farm of %d endpoints: %v", n, err)
	}
	f := &Fleet{}
	var cfg *ssh.ServerConfig
	if opts.Handshake {
		var err error
		cfg, err = f.serverConfig()
		if err != nil {
			t.Fatalf("sshtest: farm: %v", err)
		}
	}
	var wg sync.WaitGroup
	var listeners []net.Listener
	t.Cleanup(func() {
		for _, l := range listeners {
			_ = l.Close()
		}
		wg.Wait()
	})
	for i := range n {
		ip := farmIP(i / farmPerAddr)
		l, err := net.Listen("tcp", net.JoinHostPort(ip, "0"))
		if err != nil {
			t.Fatalf("sshtest: farm endpoint %d on %s: %v", i, ip, err)
		}
		listeners = append(listeners, l)
		f.Addrs = append(f.Addrs, l.Addr().String())
		wg.Add(1)
		go func() {
			defer wg.Done()
			serveFarm(l, cfg)
		}()
	}
	return f
}

// farmIP returns the k-th farm address: 127.77.0.1, 127.77.0.2, ...
func farmIP(k int) string {
	ip := make(net.IP, 4)
	binary.BigEndian.PutUint32(ip, 0x7f4d0000+uint32(k/254)<<8+uint32(k%254)+1)
	return ip.String()
}

// raiseFileLimit raises the soft open-file limit to the hard limit and checks
// that need descriptors fit.
func raiseFileLimit(need uint64) error {
	var lim syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &lim); err != nil {
		return fmt.Errorf("get open-file limit: %w", err)
	}
	if lim.Cur < lim.Max {
		lim.Cur = lim.Max
		if err := syscall.Setrlimit(syscall.RLIMIT_NOFILE, &lim); err != nil {
			return fmt.Errorf("raise open-file limit: %w", err)
		}
	}
	if lim.Cur < need {
		return fmt.Errorf("needs about %d open files, the hard limit is %d", need, lim.Max)
	}
	return nil
}

// serveFarm accepts connections until l is closed.
func serveFarm(l net.Listener, cfg *ssh.ServerConfig) {
	var wg sync.WaitGroup
	defer wg.Wait()
	for {
		conn, err := l.Accept()
		if err != nil {
			return
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer func() { _ = conn.Close() }()
			if cfg == nil {
				_, _ = io.WriteString(conn, FarmBanner+"\r\n")
				return
			}
			serveSSH(conn, cfg)
		}()
	}
}

// serverConfig creates the farm's host key and client key.
func (f *Fleet) serverConfig() (*ssh.ServerConfig, error) {
	_, hostPriv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		return nil, err
	}
	hostSigner, err := ssh.NewSignerFromKey(hostPriv)
	if err != nil {
		return nil, err
	}
	_, clientPriv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		return nil, err
	}
	clientSigner, err := ssh.NewSignerFromKey(clientPriv)
	if err != nil {
		return nil, err
	}
	block, err := ssh.MarshalPrivateKey(clientPriv, "")
	if err != nil {
		return nil, err
	}
	f.HostKey = hostSigner.PublicKey()
	f.Auth = sshx.Auth{Username: "farm", PrivateKey: pemEncode(block)}
	want := clientSigner.PublicKey().Marshal()
	cfg := &ssh.ServerConfig{
		ServerVersion: FarmBanner,
		PublicKeyCallback: func(_ ssh.ConnMetadata, key ssh.PublicKey) (*ssh.Permissions, error) {
			if string(key.Marshal()) == string(want) {
				return nil, nil
			}
			return nil, errors.New("unknown key")
		},
	}
	cfg.AddHostKey(hostSigner)
	return cfg, nil
}

// serveSSH runs one SSH connection: session channels with exec requests.
func serveSSH(conn net.Conn, cfg *ssh.ServerConfig) {
	_ = conn.SetDeadline(time.Now().Add(30 * time.Second))
	sc, chans, reqs, err := ssh.NewServerConn(conn, cfg)
	if err != nil {
		return
	}
	_ = conn.SetDeadline(time.Time{})
	defer func() { _ = sc.Close() }()
	go ssh.DiscardRequests(reqs)
	for nc := range chans {
		if nc.ChannelType() != "session" {
			_ = nc.Reject(ssh.UnknownChannelType, "only sessions")
			continue
		}
		ch, chReqs, err := nc.Accept()
		if err != nil {
			continue
		}
		go serveSession(ch, chReqs)
	}
}

// serveSession runs the first exec request with /bin/sh and reports its exit
// status.
func serveSession(ch ssh.Channel, reqs <-chan *ssh.Request) {
	defer func() { _ = ch.Close() }()
	var cmd *exec.Cmd
	done := make(chan struct{})
	for req := range reqs {
		switch {
		case req.Type == "exec" && cmd == nil:
			var payload struct{ Command string }
			if ssh.Unmarshal(req.Payload, &payload) != nil {
				_ = req.Reply(false, nil)
				continue
			}
			cmd = exec.Command("/bin/sh", "-c", payload.Command)
			cmd.WaitDelay = time.Second
			cmd.Stdin, cmd.Stdout, cmd.Stderr = ch, ch, ch.Stderr()
			if err := cmd.Start(); err != nil {
				_ = req.Reply(false, nil)
				return
			}
			_ = req.Reply(true, nil)
			go func() {
				status := uint32(exitStatus(cmd.Wait()))
				_, _ = ch.SendRequest("exit-status", false, ssh.Marshal(struct{ Status uint32 }{status}))
				_ = ch.Close()
				close(done)
			}()
		case req.Type == "signal" && cmd != nil:
			_ = cmd.Process.Signal(syscall.SIGTERM)
		default:
			if req.WantReply {
				_ = req.Reply(false, nil)
			}
		}
	}
	if cmd != nil {
		_ = cmd.Process.Kill()
		<-done
	}
}

func exitStatus(err error) int {
	var exitErr *exec.ExitError
	switch {
	case err == nil:
		return 0
	case errors.As(err, &exitErr):
		return exitErr.ExitCode()
	}
	return 255
}
