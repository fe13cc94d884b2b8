package metrics_test

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/riverqueue/river"
	"github.com/stretchr/testify/require"

	"github.com/openwatch/openwatch/internal/apitest"
	"github.com/openwatch/openwatch/internal/app"
	"github.com/openwatch/openwatch/internal/host"
	"github.com/openwatch/openwatch/internal/metrics"
	"github.com/openwatch/openwatch/internal/worker"
)

// BenchmarkScrape measures one GET /metrics of an application holding 10,000 hosts and
// 10,000 queued jobs (one per host), with a few hundred API requests observed. It reports
// the time per scrape and the size of the answer:
//
//	go run ./scripts/withpg -- go test -run '^$' -bench Scrape -benchtime 50x ./internal/metrics/
func BenchmarkScrape(b *testing.B) {
	env := apitest.New(b, func(d *app.Deps) { d.Config.Worker.WithWorker = false })
	ctx := context.Background()
	_, err := host.Seed(ctx, env.App.Pool, 10_000, 20)
	require.NoError(b, err)
	jobs := make([]river.InsertManyParams, 10_000)
	for i := range jobs {
		jobs[i] = river.InsertManyParams{Args: worker.PingArgs{Note: "queued"}, InsertOpts: &river.InsertOpts{ScheduledAt: time.Now().Add(time.Hour)}}
	}
	_, err = env.App.Jobs.InsertMany(ctx, jobs)
	require.NoError(b, err)
	for range 300 {
		env.Do(apitest.Request{Method: http.MethodGet, Path: "health"})
	}
	h := env.App.Metrics.Handler(metrics.ListenerOptions{})
	var size int
	b.ResetTimer()
	for b.Loop() {
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/metrics", nil))
		if rec.Code != http.StatusOK {
			b.Fatalf("scrape answered %d", rec.Code)
		}
		body, _ := io.ReadAll(rec.Body)
		size = len(body)
	}
	b.ReportMetric(float64(size), "bytes/scrape")
	b.ReportMetric(float64(b.Elapsed().Milliseconds())/float64(b.N), "ms/scrape")
}
