package pgproc

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/jackc/pgx/v5"
	"github.com/stretchr/testify/require"
)

func TestParseMajor(t *testing.T) {
	t.Parallel()
	for out, want := range map[string]int{
		"postgres (PostgreSQL) 15.18 (Debian 15.18-0+deb12u1)": 15,
		"postgres (PostgreSQL) 17.2":                           17,
		"postgres (PostgreSQL) 9.6.24":                         9,
		"postgres (PostgreSQL) 18beta1":                        18,
	} {
		got, err := ParseMajor(out)
		require.NoError(t, err, out)
		require.Equal(t, want, got, out)
	}
	_, err := ParseMajor("something else")
	require.Error(t, err)
}

func TestFindBinaries(t *testing.T) {
	t.Parallel()
	b, err := FindBinaries("")
	require.NoError(t, err, "the tests need PostgreSQL server binaries: run scripts/install-postgres.sh")
	require.GreaterOrEqual(t, b.Major, MinMajor)
	require.FileExists(t, b.Path("initdb"))
	require.FileExists(t, b.Path("postgres"))

	_, err = FindBinaries(t.TempDir())
	require.ErrorIs(t, err, ErrNotFound)
}

func TestCanTraverse(t *testing.T) {
	t.Parallel()
	base, err := os.MkdirTemp("", "owtrav")
	require.NoError(t, err)
	t.Cleanup(func() { _ = os.RemoveAll(base) })
	require.NoError(t, os.Chmod(base, 0o711))
	open := filepath.Join(base, "open", "inner")
	closed := filepath.Join(base, "closed", "inner")
	require.NoError(t, os.MkdirAll(open, 0o755))
	require.NoError(t, os.MkdirAll(closed, 0o755))
	require.NoError(t, os.Chmod(filepath.Dir(closed), 0o700))

	me := User{Name: "me", UID: uint32(os.Geteuid()), GID: uint32(os.Getegid())}
	ok, _, err := me.CanTraverse(closed)
	require.NoError(t, err)
	require.True(t, ok, "the caller itself owns the directories")

	// Another user, judged from the permission bits alone.
	other := User{Name: "other", UID: 4242424, GID: 4242424, Switch: true}
	ok, blocker, err := other.CanTraverse(open)
	require.NoError(t, err)
	require.True(t, ok, "blocked at %s", blocker)
	ok, blocker, err = other.CanTraverse(closed)
	require.NoError(t, err)
	require.False(t, ok)
	require.Equal(t, filepath.Dir(closed), blocker)

	// Group permission counts for a member of the directory's group.
	require.NoError(t, os.Chmod(filepath.Dir(closed), 0o710))
	member := User{Name: "member", UID: 4242424, GID: 4242424, Groups: []uint32{uint32(os.Getegid())}, Switch: true}
	ok, _, err = member.CanTraverse(closed)
	require.NoError(t, err)
	require.True(t, ok)
}

func TestReadPidFile(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	_, err := ReadPidFile(dir)
	require.ErrorIs(t, err, os.ErrNotExist)

	content := "4242\n/srv/ow/pg/data\n1763900000\n5432\n/srv/ow/pg/run\n\n  1234567      7\nready   \n"
	require.NoError(t, os.WriteFile(filepath.Join(dir, "postmaster.pid"), []byte(content), 0o600))
	pf, err := ReadPidFile(dir)
	require.NoError(t, err)
	require.Equal(t, PidFile{PID: 4242, DataDir: "/srv/ow/pg/data", Port: 5432, SocketDir: "/srv/ow/pg/run"}, pf)

	require.NoError(t, os.WriteFile(filepath.Join(dir, "postmaster.pid"), []byte("4242\n"), 0o600))
	_, err = ReadPidFile(dir)
	require.Error(t, err)
}

func TestQuoteDSNValue(t *testing.T) {
	t.Parallel()
	for _, v := range []string{"/tmp/owpg1", "/dir with space", `/it's`, `/back\slash`} {
		cfg, err := pgx.ParseConfig("host=" + QuoteDSNValue(v) + " port=5432 user=u dbname=d")
		require.NoError(t, err, v)
		require.Equal(t, v, cfg.Host, v)
	}
	require.Equal(t, "''", QuoteDSNValue(""))
}

func TestAliveAndTail(t *testing.T) {
	t.Parallel()
	require.True(t, Alive(os.Getpid()))
	require.False(t, Alive(0))
	require.False(t, IsPostgres(os.Getpid()))

	path := filepath.Join(t.TempDir(), "log")
	require.NoError(t, os.WriteFile(path, []byte("a\nb\nc\nd\n"), 0o600))
	require.Equal(t, "c\nd", Tail(path, 2))
	require.Contains(t, Tail(filepath.Join(t.TempDir(), "missing"), 2), "no log")
}
