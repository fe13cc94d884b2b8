// Package alert keeps the alerts raised by the server's sources (the liveness poller's
// host_unreachable, compliance drift) and their lifecycle.
//
// Sources call RaiseTx and AutoResolveTx inside their own transaction. An alert is keyed by
// its dedup key: at most one alert per key is live (active, acknowledged or silenced), so
// raising a key again counts one more occurrence of the live alert instead of opening
// another. The state machine is guarded:
//
//	active       → acknowledged, silenced, resolved, dismissed
//	acknowledged → silenced, resolved, dismissed
//	silenced     → resolved, dismissed; back to active when its silence runs out (a
//	               periodic job) — acknowledging a silenced alert is refused
//	resolved, dismissed: terminal
//
// An illegal move is a conflict naming the current state. Every transition is audited in
// its transaction, published on the live stream (topic alerts) and recorded in
// alert_transitions with who made it and why: that row is both the alert's history
// (History) and the outbox the notification dispatcher (internal/notify) drains after a
// NOTIFY on openwatch_alert_transitions, so alerting never waits for a channel. An alert
// raised while its host is in maintenance is recorded with suppressed set: notifiers skip
// it.
package alert
