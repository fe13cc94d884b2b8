package sshtest

import (
	"crypto/ed25519"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"

	"golang.org/x/crypto/ssh"

	"github.com/openwatch/openwatch/internal/sshx"
)

// UserKind selects one of the test users every Server accepts.
type UserKind int

// The test users. The three owtest-* accounts are created once per machine
// (idempotently, under a file lock) and log in with a key or a password.
const (
	UserSudo         UserKind = iota // passwordless sudo (NOPASSWD)
	UserSudoPassword                 // sudo requires the user's password
	UserPlain                        // no sudo at all
	UserRoot                         // root, key only (PermitRootLogin prohibit-password)
)

// userNames are the account names of the kinds.
var userNames = map[UserKind]string{
	UserSudo:         "owtest-sudo",
	UserSudoPassword: "owtest-sudopw",
	UserPlain:        "owtest-plain",
	UserRoot:         "root",
}

// sudoersFile is the drop-in granting the test users their sudo rights.
const sudoersFile = "/etc/sudoers.d/openwatch-test"

const sudoersContent = `# Written by OpenWatch's test harness (internal/sshx/sshtest).
owtest-sudo ALL=(ALL:ALL) NOPASSWD: ALL
owtest-sudopw ALL=(ALL:ALL) ALL
`

// User is the login material of a test user. Passwords are random per
// machine (kept in a root-only state file); the key is generated per process.
type User struct {
	Kind       UserKind
	Name       string
	Password   string // empty for root, which logs in with the key only
	PrivateKey []byte // OpenSSH PEM, ed25519
}

// Auth returns key and password login material.
func (u User) Auth() sshx.Auth {
	return sshx.Auth{Username: u.Name, PrivateKey: u.PrivateKey, Password: u.Password}
}

// KeyAuth returns key-only login material.
func (u User) KeyAuth() sshx.Auth {
	return sshx.Auth{Username: u.Name, PrivateKey: u.PrivateKey}
}

// PasswordAuth returns password-only login material.
func (u User) PasswordAuth() sshx.Auth {
	return sshx.Auth{Username: u.Name, Password: u.Password}
}

// identity is the per-process test key plus the per-machine passwords.
type identity struct {
	privatePEM []byte
	authorized []byte // authorized_keys line
	passwords  map[string]string
}

var (
	identityOnce sync.Once
	identityVal  *identity
	identityErr  error
)

// loadIdentity prepares the users (once per process) and the process's key.
func loadIdentity() (*identity, error) {
	identityOnce.Do(func() {
		identityVal, identityErr = prepareIdentity()
	})
	return identityVal, identityErr
}

func prepareIdentity() (*identity, error) {
	pub, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		return nil, fmt.Errorf("generate test user key: %w", err)
	}
	block, err := ssh.MarshalPrivateKey(priv, "openwatch sshtest")
	if err != nil {
		return nil, fmt.Errorf("marshal test user key: %w", err)
	}
	sshPub, err := ssh.NewPublicKey(pub)
	if err != nil {
		return nil, fmt.Errorf("test user public key: %w", err)
	}
	passwords, err := ensureUsers()
	if err != nil {
		return nil, err
	}
	return &identity{
		privatePEM: pem.EncodeToMemory(block),
		authorized: ssh.MarshalAuthorizedKey(sshPub),
		passwords:  passwords,
	}, nil
}

// stateDir holds the lock and the password file shared by test processes.
func stateDir() string { return filepath.Join(os.TempDir(), "openwatch-sshtest") }

// ensureUsers creates the test accounts and sudoers drop-in when missing and
// returns their passwords. It holds an exclusive file lock so parallel test
// processes do not race.
func ensureUsers() (map[string]string, error) {
	if os.Geteuid() != 0 {
		return nil, errors.New("sshtest: the SSH test harness must run as root (it creates test users and starts sshd)")
	}
	dir := stateDir()
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("sshtest: create state dir: %w", err)
	}
	lock, err := os.OpenFile(filepath.Join(dir, "users.lock"), os.O_CREATE|os.O_RDWR, 0o600)
	if err != nil {
		return nil, fmt.Errorf("sshtest: open lock: %w", err)
	}
	defer func() { _ = lock.Close() }()
	if err := syscall.Flock(int(lock.Fd()), syscall.LOCK_EX); err != nil {
		return nil, fmt.Errorf("sshtest: lock: %w", err)
	}
	defer func() { _ = syscall.Flock(int(lock.Fd()), syscall.LOCK_UN) }()

	statePath := filepath.Join(dir, "users.json")
	passwords, fresh, err := loadPasswords(statePath)
	if err != nil {
		return nil, err
	}
	created, err := createMissingUsers()
	if err != nil {
		return nil, err
	}
	if fresh || created {
		if err := setPasswords(passwords); err != nil {
			return nil, err
		}
		if err := writePasswords(statePath, passwords); err != nil {
			return nil, err
		}
	}
	if err := ensureSudoers(); err != nil {
		return nil, err
	}
	return passwords, nil
}

// loadPasswords reads the state file, or generates new passwords (fresh).
func loadPasswords(path string) (map[string]string, bool, error) {
	data, err := os.ReadFile(path)
	if err == nil {
		var pw map[string]string
		if json.Unmarshal(data, &pw) == nil && complete(pw) {
			return pw, false, nil
		}
	} else if !errors.Is(err, os.ErrNotExist) {
		return nil, false, fmt.Errorf("sshtest: read %s: %w", path, err)
	}
	pw := map[string]string{}
	for kind, name := range userNames {
		if kind == UserRoot {
			continue
		}
		b := make([]byte, 12)
		if _, err := rand.Read(b); err != nil {
			return nil, false, fmt.Errorf("sshtest: random password: %w", err)
		}
		pw[name] = "Ow-" + hex.EncodeToString(b)
	}
	return pw, true, nil
}

func complete(pw map[string]string) bool {
	for kind, name := range userNames {
		if kind != UserRoot && pw[name] == "" {
			return false
		}
	}
	return true
}

func writePasswords(path string, pw map[string]string) error {
	data, err := json.Marshal(pw)
	if err != nil {
		return fmt.Errorf("sshtest: encode passwords: %w", err)
	}
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, data, 0o600); err != nil {
		return fmt.Errorf("sshtest: write passwords: %w", err)
	}
	if err := os.Rename(tmp, path); err != nil {
		return fmt.Errorf("sshtest: write passwords: %w", err)
	}
	return nil
}

// createMissingUsers runs useradd for each missing account and reports
// whether it created any.
func createMissingUsers() (bool, error) {
	created := false
	for kind, name := range userNames {
		if kind == UserRoot {
			continue
		}
		if _, err := user.Lookup(name); err == nil {
			continue
		}
		out, err := exec.Command("useradd", "-m", "-s", "/bin/sh", name).CombinedOutput()
		if err != nil {
			return false, fmt.Errorf("sshtest: useradd %s: %v: %s", name, err, out)
		}
		created = true
	}
	return created, nil
}

func setPasswords(pw map[string]string) error {
	var in strings.Builder
	for name, p := range pw {
		in.WriteString(name + ":" + p + "\n")
	}
	cmd := exec.Command("chpasswd")
	cmd.Stdin = strings.NewReader(in.String())
	if out, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("sshtest: chpasswd: %v: %s", err, out)
	}
	return nil
}

// ensureSudoers writes the sudoers drop-in when it differs.
func ensureSudoers() error {
	if cur, err := os.ReadFile(sudoersFile); err == nil && string(cur) == sudoersContent {
		return nil
	}
	tmp := sudoersFile + ".tmp" // sudo ignores names containing a dot
	if err := os.WriteFile(tmp, []byte(sudoersContent), 0o440); err != nil {
		return fmt.Errorf("sshtest: write sudoers drop-in: %w", err)
	}
	if visudo, err := exec.LookPath("visudo"); err == nil {
		if out, err := exec.Command(visudo, "-cf", tmp).CombinedOutput(); err != nil {
			_ = os.Remove(tmp)
			return fmt.Errorf("sshtest: visudo rejected the drop-in: %v: %s", err, out)
		}
	}
	if err := os.Rename(tmp, sudoersFile); err != nil {
		return fmt.Errorf("sshtest: install sudoers drop-in: %w", err)
	}
	return nil
}

// NewPrivateKey returns a fresh ed25519 private key in OpenSSH PEM form that
// no test server authorizes.
func NewPrivateKey(t testing.TB) []byte {
	t.Helper()
	_, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatalf("sshtest: generate key: %v", err)
	}
	block, err := ssh.MarshalPrivateKey(priv, "")
	if err != nil {
		t.Fatalf("sshtest: marshal key: %v", err)
	}
	return pem.EncodeToMemory(block)
}

func pemEncode(block *pem.Block) []byte { return pem.EncodeToMemory(block) }
