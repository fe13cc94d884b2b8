package app

import (
	"context"
	"log/slog"
	"os"
	"runtime/debug"
	"runtime/metrics"
	"time"
)

// The collector's tuning for serve: while the heap is small it is collected when it grows
// to gcFloor (GOGC 400 under a soft memory limit), not each time it doubles; a heap whose
// live part passes half of gcFloor is collected as with GOGC 100 (the limit follows twice
// the live heap). A request allocates a few kilobytes, so with the default collector a
// busy server spends a tenth of its CPU collecting a heap of twenty megabytes; this halves
// that for some thirty megabytes more. GOGC or GOMEMLIMIT in the environment leave the
// collector as they say.
const (
	gcPercent = 400
	gcFloor   = 96 << 20
	gcEvery   = 10 * time.Second
)

// gcLimit is the soft memory limit for a live heap of live bytes.
func gcLimit(live uint64) int64 {
	return max(int64(gcFloor), 2*int64(min(live, 1<<61)))
}

// tuneGC applies the tuning and follows the live heap until ctx ends. It reports whether
// it applies (the environment did not tune the collector itself).
func tuneGC(ctx context.Context, log *slog.Logger) bool {
	if os.Getenv("GOGC") != "" || os.Getenv("GOMEMLIMIT") != "" {
		return false
	}
	sample := []metrics.Sample{{Name: "/gc/heap/live:bytes"}}
	apply := func() {
		metrics.Read(sample)
		if sample[0].Value.Kind() == metrics.KindUint64 {
			debug.SetMemoryLimit(gcLimit(sample[0].Value.Uint64()))
		}
	}
	apply()
	debug.SetGCPercent(gcPercent)
	log.Debug("garbage collector tuned", slog.Int("gogc", gcPercent), slog.Int64("memory_limit_floor", gcFloor))
	go every(ctx, gcEvery, apply)
	return true
}
