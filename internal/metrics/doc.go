// Package metrics holds OpenWatch's Prometheus metrics: one registry per process (never
// the client library's global one, so tests build as many as they like), the counters and
// histograms the rest of the code reports to through small observer methods, collectors
// that read the database at scrape time, and the listener that serves GET /metrics
// ([metrics] listen, separate from the API's).
//
// Every family is named openwatch_* with its unit in the name. Labels are bounded sets
// (operationId, status code, job kind, channel type, outcome, error type); host, user and
// request ids never become labels.
package metrics
