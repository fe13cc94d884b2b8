package patchtest_test

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/openwatch/openwatch/internal/change/patch/patchtest"
)

func TestTarget(t *testing.T) {
	tg := patchtest.StartTarget(t, patchtest.Options{Addr: "127.0.0.21"})
	require.Equal(t, "1.0", tg.Version(patchtest.App))
	require.True(t, tg.Healthy())
	t.Log(tg.MustRun("apt-get -s upgrade --with-new-pkgs; apt-cache policy owtest-sec"))
}
