package ratelimit

// Len returns how many keys l remembers.
func (l *Limiter) Len() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return len(l.buckets)
}

// Admitted returns how many calls are running or waiting in g.
func (g *Gate) Admitted() int { return len(g.admitted) }
