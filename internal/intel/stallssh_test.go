package intel_test

import (
	"crypto/ed25519"
	"crypto/rand"
	"encoding/base64"
	"encoding/binary"
	"errors"
	"io"
	"net"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"

	"github.com/stretchr/testify/require"
	"golang.org/x/crypto/ssh"
)

// stallServer is an in-process SSH server on loopback that runs every exec request with
// /bin/sh as the test process's user, except that the first command containing
// stallOn blocks until the client goes away (or Release): a job stuck in the middle of
// its SSH batch, for crash tests.
type stallServer struct {
	Addr     string
	Port     int
	User     string
	Password string

	ln       net.Listener
	stallOn  string
	stalled  atomic.Bool
	Started  chan struct{} // closed when the stalled command arrived
	release  chan struct{}
	relOnce  sync.Once
	sessions atomic.Int64
	wg       sync.WaitGroup
}

func startStallServer(t *testing.T, stallOn string) *stallServer {
	t.Helper()
	_, priv, err := ed25519.GenerateKey(rand.Reader)
	require.NoError(t, err)
	signer, err := ssh.NewSignerFromKey(priv)
	require.NoError(t, err)
	s := &stallServer{User: "root", Password: "stall-" + strconv.Itoa(int(priv[0])) + "-password", stallOn: stallOn,
		Started: make(chan struct{}), release: make(chan struct{})}
	cfg := &ssh.ServerConfig{PasswordCallback: func(c ssh.ConnMetadata, pw []byte) (*ssh.Permissions, error) {
		if c.User() == s.User && string(pw) == s.Password {
			return nil, nil
		}
		return nil, errors.New("denied")
	}}
	cfg.AddHostKey(signer)
	s.ln, err = net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	s.Addr = s.ln.Addr().String()
	s.Port = s.ln.Addr().(*net.TCPAddr).Port
	s.wg.Go(func() { s.serve(cfg) })
	t.Cleanup(func() {
		s.Release()
		_ = s.ln.Close()
		s.wg.Wait()
	})
	return s
}

// Release lets a stalled command run on (when its client is still there).
func (s *stallServer) Release() { s.relOnce.Do(func() { close(s.release) }) }

func (s *stallServer) serve(cfg *ssh.ServerConfig) {
	for {
		c, err := s.ln.Accept()
		if err != nil {
			return
		}
		s.wg.Go(func() { s.handleConn(c, cfg) })
	}
}

func (s *stallServer) handleConn(c net.Conn, cfg *ssh.ServerConfig) {
	defer func() { _ = c.Close() }()
	sc, chans, reqs, err := ssh.NewServerConn(c, cfg)
	if err != nil {
		return
	}
	gone := make(chan struct{})
	go func() { _ = sc.Wait(); close(gone) }()
	go ssh.DiscardRequests(reqs)
	for nc := range chans {
		if nc.ChannelType() != "session" {
			_ = nc.Reject(ssh.UnknownChannelType, "only sessions")
			continue
		}
		ch, creqs, err := nc.Accept()
		if err != nil {
			continue
		}
		s.sessions.Add(1)
		s.wg.Go(func() { s.session(ch, creqs, gone) })
	}
}

// session serves one session: the first exec request runs; others are refused.
func (s *stallServer) session(ch ssh.Channel, reqs <-chan *ssh.Request, gone <-chan struct{}) {
	defer func() { _ = ch.Close() }()
	for req := range reqs {
		if req.Type != "exec" {
			if req.WantReply {
				_ = req.Reply(false, nil)
			}
			continue
		}
		if len(req.Payload) < 4 {
			_ = req.Reply(false, nil)
			return
		}
		n := binary.BigEndian.Uint32(req.Payload)
		cmd := string(req.Payload[4 : 4+min(int(n), len(req.Payload)-4)])
		_ = req.Reply(true, nil)
		go ssh.DiscardRequests(reqs)
		if strings.Contains(scriptText(cmd), s.stallOn) && s.stalled.CompareAndSwap(false, true) {
			close(s.Started)
			select {
			case <-gone:
				return
			case <-s.release:
			}
		}
		code := s.run(ch, cmd)
		_, _ = ch.SendRequest("exit-status", false, binary.BigEndian.AppendUint32(nil, uint32(code)))
		return
	}
}

func (s *stallServer) run(ch ssh.Channel, cmd string) int {
	c := exec.Command("/bin/sh", "-c", cmd)
	c.Stdout, c.Stderr = ch, ch.Stderr()
	stdin, err := c.StdinPipe()
	if err != nil {
		return 255
	}
	if err := c.Start(); err != nil {
		return 127
	}
	go func() { _, _ = io.Copy(stdin, ch); _ = stdin.Close() }()
	err = c.Wait()
	var exit *exec.ExitError
	if errors.As(err, &exit) {
		if st, ok := exit.Sys().(syscall.WaitStatus); ok && st.Signaled() {
			return 128 + int(st.Signal())
		}
		return exit.ExitCode()
	}
	if err != nil {
		return 255
	}
	return 0
}

// scriptText is an exec request's command with the batch's inner script decoded (sshx sends
// it base64-encoded), so a test can look for what the commands read.
func scriptText(cmd string) string {
	out := cmd
	for _, w := range strings.Fields(cmd) {
		if b, err := base64.StdEncoding.DecodeString(w); err == nil && len(b) > 0 {
			out += "\n" + string(b)
		}
	}
	return out
}
