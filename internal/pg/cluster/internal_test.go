package cluster

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/openwatch/openwatch/internal/pg/internal/pgproc"
)

func TestSocketDirFor(t *testing.T) {
	t.Parallel()
	u := pgproc.User{Name: "me", UID: uint32(os.Geteuid())}
	hash := hashDir("/srv/openwatch")
	require.Len(t, hash, 12)

	d, err := socketDirFor("/srv/openwatch/pg", u, hash)
	require.NoError(t, err)
	require.Equal(t, "/srv/openwatch/pg/run", d)

	long := "/srv/" + strings.Repeat("x", 100) + "/pg"
	d, err = socketDirFor(long, u, hash)
	require.NoError(t, err)
	require.LessOrEqual(t, len(d)+len(socketName), maxSocketPath)
	require.True(t, strings.HasSuffix(d, hash), d)
	if os.Geteuid() == 0 {
		require.Equal(t, filepath.Join(runtimeBase, hash), d)
	}
}

func TestPrepareDirRefusesForeignOrSymlink(t *testing.T) {
	t.Parallel()
	me := pgproc.User{Name: "me", UID: uint32(os.Geteuid()), GID: uint32(os.Getegid())}
	base := t.TempDir()

	fresh := filepath.Join(base, "fresh")
	require.NoError(t, prepareDir(fresh, me))
	fi, err := os.Stat(fresh)
	require.NoError(t, err)
	require.Equal(t, os.FileMode(0o700), fi.Mode().Perm())

	require.NoError(t, os.Chmod(fresh, 0o755))
	require.NoError(t, prepareDir(fresh, me), "an existing dir of ours is reused")
	fi, err = os.Stat(fresh)
	require.NoError(t, err)
	require.Equal(t, os.FileMode(0o700), fi.Mode().Perm(), "and made private again")

	link := filepath.Join(base, "link")
	require.NoError(t, os.Symlink(fresh, link))
	require.ErrorContains(t, prepareDir(link, me), "not a directory")

	someoneElse := pgproc.User{Name: "other", UID: me.UID + 1, Switch: true}
	require.ErrorContains(t, prepareDir(fresh, someoneElse), "belongs to uid")
}
