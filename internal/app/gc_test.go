package app

import (
	"context"
	"log/slog"
	"runtime/debug"
	"testing"
)

func TestGCLimitFollowsTheLiveHeap(t *testing.T) {
	for live, want := range map[uint64]int64{
		0:         gcFloor,
		20 << 20:  gcFloor,
		48 << 20:  gcFloor,
		64 << 20:  128 << 20,
		1 << 30:   2 << 30,
		1<<64 - 1: 1 << 62,
	} {
		if got := gcLimit(live); got != want {
			t.Errorf("gcLimit(%d) = %d, want %d", live, got, want)
		}
	}
}

func TestTuneGCLeavesAnExplicitSetting(t *testing.T) {
	log := slog.New(slog.DiscardHandler)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	defer debug.SetMemoryLimit(debug.SetMemoryLimit(-1))
	defer debug.SetGCPercent(debug.SetGCPercent(-1))
	debug.SetGCPercent(100)

	t.Setenv("GOGC", "150")
	if tuneGC(ctx, log) {
		t.Fatal("tuned despite GOGC")
	}
	if got := debug.SetGCPercent(100); got != 100 {
		t.Fatalf("GOGC changed to %d", got)
	}
	t.Setenv("GOGC", "")
	t.Setenv("GOMEMLIMIT", "")
	if !tuneGC(ctx, log) {
		t.Fatal("not tuned without GOGC and GOMEMLIMIT")
	}
	if got := debug.SetGCPercent(100); got != gcPercent {
		t.Fatalf("GOGC is %d, want %d", got, gcPercent)
	}
	if limit := debug.SetMemoryLimit(-1); limit < gcFloor {
		t.Fatalf("memory limit %d below the floor", limit)
	}
}
