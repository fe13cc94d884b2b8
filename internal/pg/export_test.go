package pg

import "github.com/jackc/pgx/v5/pgconn"

// CheckVersionNum exposes checkVersionNum to the external tests.
var CheckVersionNum = checkVersionNum

// GooseProvider exposes gooseProvider to the external tests.
var GooseProvider = gooseProvider

// ScanPlansOf returns the scan plans a connection keeps for sql (nil when none), so a test
// can see them planned once and kept.
func ScanPlansOf(c *pgconn.PgConn, sql string) any {
	cache, _ := c.CustomData()[scanPlansKey].(map[string]*scanPlans)
	if p := cache[sql]; p != nil {
		return p
	}
	return nil
}

// LoaderWaiting returns how many lookups wait in l.
func LoaderWaiting[K comparable, V any](l *Loader[K, V]) int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return len(l.waiting)
}
