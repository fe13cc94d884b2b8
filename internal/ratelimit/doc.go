// Package ratelimit holds OpenWatch's defences against brute force and floods: a per-key
// token bucket (Limiter) for throttling by client address, the per-account lockout policy
// (Backoff), and a bound on concurrent expensive work such as Argon2id hashing (Gate).
//
// Limiter and Gate live in memory and are per process: with several replicas behind a
// load balancer, each enforces its own limit, so the fleet-wide rate is the per-process
// rate times the number of replicas. Per-account lockout does not have this weakness
// because the caller keeps its state (failure count, locked-until) in the database and
// Backoff only computes the policy.
//
// Everything here is bounded in memory whatever clients send: a Limiter forgets idle
// buckets and never holds more than MaxKeys of them, and a Gate refuses work at once
// rather than queueing without limit.
package ratelimit
