package window_test

import (
	"time"

	"github.com/openwatch/openwatch/internal/window"
)

func windowService(f *fixture) *window.Service {
	return window.NewService(f.env.App.Pool, f.env.App.Audit, func() time.Time { return now })
}
