package engine

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/openwatch/openwatch/internal/rule"
	"github.com/openwatch/openwatch/internal/sshx"
)

// DefaultCheckTimeout bounds each record of a scan on the target.
const DefaultCheckTimeout = 20 * time.Second

// Runner runs commands in one SSH session: a host connection (hostssh.Conn, which fills
// in the host's privilege mode and sudo settings) or a bare client (ClientRunner).
type Runner interface {
	RunBatch(ctx context.Context, cmds []sshx.Command, o sshx.BatchOptions) (sshx.BatchResult, error)
}

// ClientRunner runs batches on a bare SSH client with the options as given.
func ClientRunner(c *sshx.Client) Runner { return clientRunner{c} }

type clientRunner struct{ c *sshx.Client }

func (r clientRunner) RunBatch(ctx context.Context, cmds []sshx.Command, o sshx.BatchOptions) (sshx.BatchResult, error) {
	return r.c.Batch(ctx, cmds, o)
}

// Options tune a scan.
type Options struct {
	// CheckTimeout bounds each record (default DefaultCheckTimeout). The whole scan is
	// bounded by ctx and the client's command timeout.
	CheckTimeout time.Duration
	// Privilege is the mode learned for the host; the sudo fields as in sshx.
	Privilege         sshx.Privilege
	SudoPassword      string
	AllowSudoPassword bool
	// Variables are the installation's site variable values.
	Variables map[string]string
	// PerRule runs each rule in its own session with only what it reads: the naive way,
	// kept to measure the single-session program against.
	PerRule bool
	// OnRecord, when set, hears each record as it completes (done of total), while the
	// scan runs.
	OnRecord func(done, total int)
}

// Scan is a finished scan of one host.
type Scan struct {
	Host      Host
	Results   []Result
	Sessions  int
	Records   int
	Privilege sshx.Privilege
	Started   time.Time
	Duration  time.Duration
	// Timings are each record's time on the target, by key.
	Timings map[string]time.Duration
}

// Counts tallies results by status.
func (s *Scan) Counts() map[Status]int {
	c := map[Status]int{}
	for _, r := range s.Results {
		c[r.Status]++
	}
	return c
}

// Run scans the host behind c against rules: one session for the whole program (or one
// per rule with o.PerRule). It fails only when the host could not be read at all (the
// session failed, or the host's identity is unreadable); a rule that cannot be checked is
// an error result.
func Run(ctx context.Context, c Runner, rules []*rule.Rule, o Options) (*Scan, error) {
	if o.CheckTimeout <= 0 {
		o.CheckTimeout = DefaultCheckTimeout
	}
	s := &Scan{Started: time.Now()}
	if o.PerRule {
		for _, r := range rules {
			one, err := runProgram(ctx, c, []*rule.Rule{r}, o)
			if err != nil {
				return nil, err
			}
			s.Host, s.Privilege = one.Host, one.Privilege
			s.Results = append(s.Results, one.Results...)
			s.Sessions += one.Sessions
			s.Records += one.Records
			if s.Timings == nil {
				s.Timings = map[string]time.Duration{}
			}
			for k, d := range one.Timings {
				s.Timings[k] += d
			}
		}
	} else {
		one, err := runProgram(ctx, c, rules, o)
		if err != nil {
			return nil, err
		}
		s.Host, s.Privilege, s.Results, s.Sessions, s.Records, s.Timings = one.Host, one.Privilege, one.Results, one.Sessions, one.Records, one.Timings
	}
	s.Duration = time.Since(s.Started)
	return s, nil
}

func runProgram(ctx context.Context, c Runner, rules []*rule.Rule, o Options) (*Scan, error) {
	prog := Compile(rules, o.CheckTimeout)
	cmds := prog.Commands()
	if size := scriptSize(cmds) + len(prog.Prelude()); size > sshx.MaxScriptBytes {
		return nil, fmt.Errorf("engine: the scan program is %d bytes, more than one session carries (%d)", size, sshx.MaxScriptBytes)
	}
	var mu sync.Mutex
	ends := make([]time.Time, len(cmds))
	start := time.Now()
	done := 0
	br, err := c.RunBatch(ctx, cmds, sshx.BatchOptions{
		Privileged:           true,
		FallbackUnprivileged: true,
		Privilege:            o.Privilege,
		SudoPassword:         o.SudoPassword,
		AllowSudoPassword:    o.AllowSudoPassword,
		Prelude:              prog.Prelude(),
		OnDone: func(i int) {
			mu.Lock()
			if i >= 0 && i < len(ends) {
				ends[i] = time.Now()
			}
			done++
			n := done
			mu.Unlock()
			if o.OnRecord != nil {
				o.OnRecord(n, len(cmds))
			}
		},
	})
	if err != nil {
		return nil, fmt.Errorf("engine: run the scan program: %w", err)
	}
	mu.Lock()
	defer mu.Unlock()
	rs := recordsOf(prog, br, start, ends)
	host, err := ParseHost(rs)
	if err != nil {
		return nil, fmt.Errorf("engine: %w", err)
	}
	timings := make(map[string]time.Duration, len(rs.ByKey))
	for k, r := range rs.ByKey {
		timings[k] = r.Duration
	}
	return &Scan{
		Timings:   timings,
		Host:      host,
		Results:   Evaluate(rules, rs, host, o.Variables),
		Sessions:  br.Sessions,
		Records:   len(cmds),
		Privilege: br.Privilege,
	}, nil
}

// recordsOf turns a batch's results into records, trimming output past each cap.
func recordsOf(prog *Program, br sshx.BatchResult, start time.Time, ends []time.Time) *Records {
	rs := &Records{ByKey: make(map[string]*Record, len(prog.Records)), Privilege: br.Privilege, Cap: map[string]int{}}
	prev := start
	for i, spec := range prog.Records {
		res := br.Results[i]
		rec := &Record{Key: spec.Key, Command: spec.Command, Stdout: res.Stdout, Stderr: res.Stderr, Exit: res.ExitCode, Root: spec.Root}
		if len(rec.Stdout) > spec.Cap {
			rec.Stdout, rec.Truncated = rec.Stdout[:spec.Cap], true
		}
		if !ends[i].IsZero() {
			rec.Duration = ends[i].Sub(prev)
			prev = ends[i]
		}
		rs.ByKey[spec.Key] = rec
		rs.Cap[spec.Key] = spec.Cap
	}
	return rs
}

func scriptSize(cmds []sshx.Command) int {
	n := 0
	for _, c := range cmds {
		n += len(c.Script) + 200 // the batch's framing per command
	}
	return n
}
