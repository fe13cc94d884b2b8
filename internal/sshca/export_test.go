package sshca

import "time"

// WithClock returns a copy of the service reading time from now.
func (s *Service) WithClock(now func() time.Time) *Service {
	c := *s
	c.now = now
	return &c
}

// ParseKRLSerials returns the revoked serials of a KRL encodeKRL wrote.
func ParseKRLSerials(b []byte) ([]uint64, error) { return parseKRLSerials(b) }

// ParseKRL returns the revoked serials and explicitly revoked keys of a KRL encodeKRL wrote.
func ParseKRL(b []byte) ([]uint64, [][]byte, error) { return parseKRL(b) }
