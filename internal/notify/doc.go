// Package notify delivers alert notices to notification channels: webhooks (signed JSON),
// Slack-compatible incoming webhooks and SMTP mailboxes.
//
// A caller that changes an alert calls EnqueueTx in its own transaction; EnqueueTx records
// one delivery per enabled channel whose routing matches the notice and inserts one River
// job per delivery, so the notice is queued exactly when the alert change commits. Each
// job makes one attempt per run under a per-attempt timeout, so a slow or dead receiver
// holds only its own job; River retries failed attempts with exponential back-off, and
// after the last attempt the delivery is dead until someone redelivers it. A suppressed
// notice (a host in maintenance) is recorded as skipped and never sent.
//
// Invariants: a channel's secret (webhook signing secret, SMTP password) is sealed bound
// to its row, never returned and never written to the audit trail; outbound connections
// go only to addresses the dial guard allows (link-local and metadata addresses are
// refused by default), checked at connect time so DNS answers cannot get around it.
package notify
