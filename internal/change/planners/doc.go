// Package planners turns change jobs' specifications into actions: patch jobs through
// internal/change/patch, remediation requests through internal/change/remedy (with the
// host's capabilities, probed in the job's first session, picking each rule's
// implementation). It sits apart from internal/change, which both of those import.
package planners
