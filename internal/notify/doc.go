// Package notify delivers alert notices to notification channels: webhooks (signed JSON),
// Slack-compatible incoming webhooks and SMTP mailboxes, and keeps the in-app feed.
//
// Alert transitions reach it through an outbox: the alert package writes one
// alert_transitions row per transition in the transition's own transaction and NOTIFYs
// openwatch_alert_transitions. The Dispatcher, run where jobs are worked, wakes on that
// notification (and sweeps every few seconds in case one was missed), locks a batch of
// pending rows with SKIP LOCKED (so several workers split them and each is dispatched
// once), calls EnqueueTx's routing for those that notify (raised, resolved, unsilenced),
// adds a feed item for raised and resolved ones, and marks them dispatched, all in one
// transaction. A suppressed alert (its host in maintenance) gets skipped deliveries and
// no feed item: maintenance keeps it from people, the alert list still records it.
//
// A caller may also call EnqueueTx in its own transaction; EnqueueTx records
// one delivery per enabled channel whose routing matches the notice and inserts one River
// job per delivery, so the notice is queued exactly when the alert change commits. Each
// job makes one attempt per run under a per-attempt timeout, so a slow or dead receiver
// holds only its own job; River retries failed attempts with exponential back-off, and
// after the last attempt the delivery is dead until someone redelivers it. A suppressed
// notice (a host in maintenance) is recorded as skipped and never sent. Deliveries run on
// their own queue, and one channel holds at most Options.ChannelWorkers of its slots in a
// process (its other deliveries snooze, and only wait for a slot while the channel is
// moving), so a receiver that never answers cannot take the workers from the others.
// Once all of a channel's slots have been held for a second with none freed, its breaker
// opens: one statement holds back every waiting job of the channel for Options.HoldBack
// (worker.Park; no attempt is spent), new deliveries to it are queued for the same time,
// and the hold doubles while it stays stuck (up to 20 times); the first delivered attempt
// closes the breaker and releases what it held (worker.Unpark). Queued deliveries are published on the
// live stream in their transaction, attempts' outcomes every 250 ms, one event per status
// (topic notifications, permission notification:read).
//
// Scheduled reports (internal/report) are deliveries too: RecordReportDeliveryTx records
// one per (report, channel) with transition "report" and the report's id, the report
// package's own job sends it (with the export attached to an e-mail) and records each
// attempt with ReportDeliveryOutcome, and Redeliver hands such a delivery back to it
// (SetReportRequeue); this package's worker never sends them.
//
// The feed: FeedAddTx posts an item in the caller's transaction to an audience, everyone
// holding a permission or one user, as one row whatever the number of readers. Read state
// is per reader (the principal's key): single marks in feed_reads and a read-all
// watermark in feed_watermarks (items up to its id are read; an item committed after
// read-all with an older id, a race of milliseconds, counts as read).
//
// Invariants: a channel's secret (webhook signing secret, SMTP password) is sealed bound
// to its row, never returned and never written to the audit trail; outbound connections
// go only to addresses the dial guard allows (link-local and metadata addresses are
// refused by default), checked at connect time so DNS answers cannot get around it.
package notify
