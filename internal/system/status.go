package system

import (
	"context"
	"time"
)

// PoolStats are a connection pool's numbers.
type PoolStats struct {
	MaxConns, TotalConns, AcquiredConns, IdleConns int
	AcquireCount, EmptyAcquireCount                int64
	AcquireWait                                    time.Duration
}

// Workers is what is known about the processes working background jobs.
type Workers struct {
	ThisProcess bool
	LeaderAlive bool
	LastSeen    *time.Time
	// Depth is the number of unfinished jobs per kind.
	Depth map[string]int64
}

// MetricsInfo says where this process serves Prometheus metrics.
type MetricsInfo struct {
	Enabled bool
	Listen  string
	Auth    string
	TLS     bool
}

// StatusSource reads the parts of the system status that live outside this package.
type StatusSource struct {
	// ManagedDatabase says whether OpenWatch runs its own PostgreSQL cluster.
	ManagedDatabase bool
	ServerVersion   func(ctx context.Context) string
	Pool            func() PoolStats
	Workers         func(ctx context.Context) (Workers, error)
	// Metrics returns the metrics listener's state (its address is known once it listens).
	Metrics func() MetricsInfo
}
