// Package activity serves the activity feed (GET /activity): audit events, monitoring
// transitions, intelligence events and alerts merged newest first (the activity_feed
// view), keyset-paginated on (occurred_at, id).
//
// Invariants:
//   - Items of a source the caller may not read (audit needs audit:read, the others
//     host:read) are never returned; they are counted in the page's hidden count instead,
//     over the same span of the feed as the page.
//   - The feed only reads: each source's package writes its own rows.
package activity
