package main

import (
	"bufio"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/google/uuid"

	"github.com/openwatch/openwatch/gen/client"
	"github.com/openwatch/openwatch/pkg/openwatch"
)

// stringList is a repeatable string flag.
type stringList []string

func (s *stringList) String() string     { return strings.Join(*s, ",") }
func (s *stringList) Set(v string) error { *s = append(*s, v); return nil }

func usageErr(format string, a ...any) error {
	return &exitErr{exitUsage, fmt.Errorf(format, a...)}
}

// parseTime reads an instant: RFC 3339, or a duration before now (24h, 90m).
func parseTime(flagName, v string) (*time.Time, error) {
	if v == "" {
		return nil, nil
	}
	if t, err := time.Parse(time.RFC3339, v); err == nil {
		return &t, nil
	}
	if d, err := time.ParseDuration(v); err == nil && d > 0 {
		t := time.Now().Add(-d).UTC().Truncate(time.Second)
		return &t, nil
	}
	return nil, usageErr("--%s %q: want an RFC 3339 time or a duration such as 24h", flagName, v)
}

func deref[T any](p *T) T {
	var zero T
	if p == nil {
		return zero
	}
	return *p
}

func ago(t *time.Time) string {
	if t == nil {
		return "-"
	}
	return t.UTC().Format(time.RFC3339)
}

// --- login / logout

func runLogin(ctx context.Context, e env, args []string) error {
	c := find("login")
	fs := newFlags(e, c.name, c.summary, c.usage)
	var cn conn
	cn.register(fs, false)
	username := fs.String("username", "", "user `name` (default: asked on the terminal or the first line of standard input)")
	otp := fs.String("otp", "", "the authenticator's one-time `code`, when the account has MFA (default: asked when needed)")
	if _, err := parse(fs, args); err != nil {
		return err
	}
	if cn.url == "" {
		cn.url = e.getenv("OPENWATCH_URL")
	}
	if cn.cacert == "" {
		cn.cacert = e.getenv("OPENWATCH_CACERT")
	}
	if cn.url == "" {
		return usageErr("--url is required (or OPENWATCH_URL), e.g. --url https://openwatch.example:8443")
	}
	var caPEM []byte
	opts := []openwatch.Option{openwatch.WithUserAgent("openwatch-cli")}
	if cn.cacert != "" {
		b, err := os.ReadFile(cn.cacert)
		if err != nil {
			return fmt.Errorf("--cacert: %w", err)
		}
		caPEM = b
		opts = append(opts, openwatch.WithCACert(b))
	}
	cl, err := openwatch.New(cn.url, opts...)
	if err != nil {
		return usageErr("%v", err)
	}
	in := bufio.NewReader(e.stdin)
	if *username == "" {
		if f, ok := e.stdin.(*os.File); ok && isTerminal(f) {
			fmt.Fprint(e.stderr, "Username: ")
		}
		u, err := readLine(in)
		if err != nil {
			return fmt.Errorf("username: %w", err)
		}
		*username = strings.TrimSpace(u)
	}
	password, err := readSecret(e, in, "Password: ")
	if err != nil {
		return fmt.Errorf("password: %w", err)
	}
	res, err := cl.Login(ctx, *username, password, *otp)
	if errors.Is(err, openwatch.ErrMFARequired) && *otp == "" {
		code, rerr := readSecret(e, in, "One-time code: ")
		if rerr != nil {
			return &exitErr{exitAuth, fmt.Errorf("this account requires a one-time code (--otp): %w", rerr)}
		}
		res, err = cl.Login(ctx, *username, password, strings.TrimSpace(code))
	}
	if err != nil {
		return explain(err)
	}
	t := cl.Tokens()
	if err := writeLogin(e, &savedLogin{URL: cl.BaseURL.String(), CAPEM: string(caPEM), Username: res.User.Username,
		AccessToken: t.AccessToken, RefreshToken: t.RefreshToken}); err != nil {
		return fmt.Errorf("save the sign-in: %w", err)
	}
	p, _ := loginPath(e)
	fmt.Fprintf(e.stdout, "Signed in to %s as %s; the sign-in is saved in %s.\n", cl.BaseURL, res.User.Username, p)
	if deref(res.MfaEnrollmentRequired) {
		fmt.Fprintln(e.stdout, "This workspace requires MFA: enroll in the web UI before anything else works.")
	}
	return nil
}

func isTerminal(f *os.File) bool {
	fi, err := f.Stat()
	return err == nil && fi.Mode()&os.ModeCharDevice != 0
}

func runLogout(ctx context.Context, e env, args []string) error {
	c := find("logout")
	fs := newFlags(e, c.name, c.summary, c.usage)
	if _, err := parse(fs, args); err != nil {
		return err
	}
	saved, err := readLogin(e)
	if err != nil {
		return err
	}
	if saved == nil {
		fmt.Fprintln(e.stdout, "Not signed in.")
		return nil
	}
	// Only the saved sign-in is ended, whatever token the environment holds.
	opts := []openwatch.Option{openwatch.WithUserAgent("openwatch-cli"),
		openwatch.WithTokens(openwatch.Tokens{AccessToken: saved.AccessToken, RefreshToken: saved.RefreshToken}, nil)}
	if saved.CAPEM != "" {
		opts = append(opts, openwatch.WithCACert([]byte(saved.CAPEM)))
	}
	cl, err := openwatch.New(saved.URL, opts...)
	if err != nil {
		return err
	}
	revokeErr := cl.Logout(ctx)
	p, _ := loginPath(e)
	if err := os.Remove(p); err != nil && !errors.Is(err, os.ErrNotExist) {
		return err
	}
	if revokeErr != nil && openwatch.StatusOf(revokeErr) != 401 {
		return fmt.Errorf("the saved sign-in is removed, but the server did not end the session: %w", revokeErr)
	}
	fmt.Fprintf(e.stdout, "Signed out of %s.\n", saved.URL)
	return nil
}

// --- hosts

func runHosts(ctx context.Context, e env, args []string) error {
	c := find("hosts")
	if len(args) == 0 || strings.HasPrefix(args[0], "-") {
		if len(args) > 0 && (args[0] == "-h" || args[0] == "--help" || args[0] == "-help") {
			fmt.Fprintf(e.stderr, "%s\n\nUsage: openwatch %s\n\n%s\n", c.summary, c.usage, exitCodesHelp)
			return nil
		}
		return usageErr("want a subcommand: %s", c.usage)
	}
	sub, args := args[0], args[1:]
	switch sub {
	case "list":
		return hostsList(ctx, e, args)
	case "add":
		return hostsAdd(ctx, e, args)
	case "show":
		return hostsShow(ctx, e, args)
	}
	return usageErr("unknown subcommand %q: %s", sub, c.usage)
}

func hostsList(ctx context.Context, e env, args []string) error {
	fs := newFlags(e, "hosts list", "List hosts.", "hosts list [--q TEXT] [--tag TAG] [--environment ENV] [--limit N] [--output table|json|yaml]")
	var cn conn
	cn.register(fs, true)
	q := fs.String("q", "", "search `text` in hostname, display name and address")
	tag := fs.String("tag", "", "only hosts with the `tag`")
	envName := fs.String("environment", "", "only hosts of the `environment`")
	limit := fs.Int("limit", 0, "at most `N` hosts (0: all)")
	if pos, err := parse(fs, args); err != nil {
		return err
	} else if len(pos) > 0 {
		return usageErr("hosts list takes no arguments")
	}
	if err := cn.checkOutput(); err != nil {
		return err
	}
	cl, err := cn.client(e, true)
	if err != nil {
		return err
	}
	p := client.ListHostsParams{}
	if *q != "" {
		p.Q = q
	}
	if *tag != "" {
		p.Tag = tag
	}
	if *envName != "" {
		p.Environment = envName
	}
	hosts := []client.HostListItem{}
	for h, err := range cl.Hosts(ctx, &p) {
		if err != nil {
			return explain(err)
		}
		hosts = append(hosts, h)
		if *limit > 0 && len(hosts) >= *limit {
			break
		}
	}
	return emit(e.stdout, cn.output, hosts, func(tw *tabwriter.Writer) {
		fmt.Fprintln(tw, "ID\tHOSTNAME\tADDRESS\tOS\tENVIRONMENT\tPASS\tFAIL\tLAST SCAN")
		for _, h := range hosts {
			os := strings.TrimSpace(deref(h.OsFamily) + " " + deref(h.OsVersion))
			if os == "" {
				os = "-"
			}
			pass, fail := "-", "-"
			if s := h.ComplianceSummary; s != nil {
				pass, fail = strconv.FormatInt(s.Passing, 10), strconv.FormatInt(s.Failing, 10)
			}
			fmt.Fprintf(tw, "%s\t%s\t%s:%d\t%s\t%s\t%s\t%s\t%s\n", h.Id, h.Hostname, h.IpAddress, h.Port, os, h.Environment, pass, fail, ago(h.LastScanAt))
		}
	})
}

func hostsAdd(ctx context.Context, e env, args []string) error {
	fs := newFlags(e, "hosts add", "Register a host.", "hosts add HOSTNAME --address IP [--port N] [--username U] [--environment ENV] [--tag T]... [--output table|json|yaml]")
	var cn conn
	cn.register(fs, true)
	addr := fs.String("address", "", "the host's IP `address` (required)")
	port := fs.Int("port", 0, "SSH `port` (default 22)")
	user := fs.String("username", "", "SSH user `name`")
	envName := fs.String("environment", "", "`environment` (default: default)")
	display := fs.String("display-name", "", "display `name`")
	var tags stringList
	fs.Var(&tags, "tag", "a `tag` (repeatable)")
	pos, err := parse(fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 1 || *addr == "" {
		return usageErr("want HOSTNAME and --address, e.g. openwatch hosts add web-1 --address 192.0.2.10")
	}
	if err := cn.checkOutput(); err != nil {
		return err
	}
	cl, err := cn.client(e, true)
	if err != nil {
		return err
	}
	req := client.HostCreateRequest{Hostname: pos[0], IpAddress: *addr}
	if *port != 0 {
		req.Port = port
	}
	if *user != "" {
		req.Username = user
	}
	if *envName != "" {
		req.Environment = envName
	}
	if *display != "" {
		req.DisplayName = display
	}
	if len(tags) > 0 {
		t := []string(tags)
		req.Tags = &t
	}
	h, err := cl.AddHost(ctx, req)
	if err != nil {
		return explain(err)
	}
	return emit(e.stdout, cn.output, h, func(tw *tabwriter.Writer) {
		fmt.Fprintf(tw, "Added host %s (%s) at %s:%d.\n", h.Hostname, h.Id, h.IpAddress, h.Port)
	})
}

func hostsShow(ctx context.Context, e env, args []string) error {
	fs := newFlags(e, "hosts show", "Show a host and its compliance summary.", "hosts show HOST [--output table|json|yaml]   (HOST: a name or an id)")
	var cn conn
	cn.register(fs, true)
	_, d, err := cn.hostArg(ctx, e, fs, args)
	if err != nil {
		return err
	}
	return emit(e.stdout, cn.output, d, func(tw *tabwriter.Writer) {
		h := d.Host
		s := d.ComplianceSummary
		rows := [][2]string{
			{"ID", h.Id.String()}, {"Hostname", h.Hostname}, {"Display name", deref(h.DisplayName)},
			{"Address", fmt.Sprintf("%s:%d", h.IpAddress, h.Port)}, {"Username", deref(h.Username)},
			{"Environment", h.Environment}, {"Tags", strings.Join(deref(h.Tags), ", ")},
			{"OS", strings.TrimSpace(deref(h.OsFamily) + " " + deref(h.OsVersion))},
			{"Maintenance", strconv.FormatBool(deref(h.MaintenanceMode))},
			{"Rules", fmt.Sprintf("%d total: %d passing, %d failing, %d error, %d skipped", s.Total, s.Passing, s.Failing, s.Error, s.Skipped)},
		}
		if d.Liveness != nil {
			rows = append(rows, [2]string{"Reachability", string(d.Liveness.ReachabilityStatus)})
		}
		for _, r := range rows {
			fmt.Fprintf(tw, "%s:\t%s\n", r[0], r[1])
		}
	})
}

// hostArg parses a command's flags and its one HOST argument (a name or an id), then finds
// the host with a signed-in client.
func (cn *conn) hostArg(ctx context.Context, e env, fs *flag.FlagSet, args []string) (*openwatch.Client, *client.HostDetailResponse, error) {
	pos, err := parse(fs, args)
	if err != nil {
		return nil, nil, err
	}
	if len(pos) != 1 {
		return nil, nil, usageErr("want one HOST (a name or an id)")
	}
	if err := cn.checkOutput(); err != nil {
		return nil, nil, err
	}
	cl, err := cn.client(e, true)
	if err != nil {
		return nil, nil, err
	}
	h, err := cl.FindHost(ctx, pos[0])
	if err != nil {
		return nil, nil, explain(err)
	}
	return cl, h, nil
}

// --- scan

func runScan(ctx context.Context, e env, args []string) error {
	c := find("scan")
	fs := newFlags(e, c.name, c.summary, c.usage)
	var cn conn
	cn.register(fs, true)
	wait := fs.Bool("wait", false, "wait for the scan to end, showing its progress on standard error")
	framework := fs.String("framework", "", "only the rules of the framework `id`")
	var rules stringList
	fs.Var(&rules, "rule", "only this rule `id` (repeatable)")
	failOnFindings := fs.Bool("fail-on-findings", false, "with --wait, exit 5 when a rule failed")
	timeout := fs.Duration("timeout", 0, "with --wait, give up after this `duration` (0: never)")
	noProgress := fs.Bool("no-progress", false, "with --wait, draw no progress bar")
	poll := fs.Duration("poll-interval", 2*time.Second, "with --wait, how often the scan is read besides its live events")
	cl, h, err := cn.hostArg(ctx, e, fs, args)
	if err != nil {
		return err
	}
	req := client.ScanRequest{}
	if *framework != "" {
		req.Framework = framework
	}
	if len(rules) > 0 {
		r := []string(rules)
		req.RuleIds = &r
	}
	sc, err := cl.StartScan(ctx, h.Host.Id, req)
	if err != nil {
		return explain(err)
	}
	if *wait {
		wctx := ctx
		if *timeout > 0 {
			var cancel context.CancelFunc
			wctx, cancel = context.WithTimeout(ctx, *timeout)
			defer cancel()
		}
		bar := newProgressBar(e, "scan "+h.Host.Hostname)
		o := openwatch.WaitOptions{PollInterval: *poll}
		if !*noProgress {
			o.OnProgress = func(p openwatch.Progress) { bar.set(p.Status, p.Done, p.Total) }
		}
		sc, err = cl.WaitScan(wctx, sc.Id, o)
		bar.done()
		if err != nil {
			if errors.Is(err, context.DeadlineExceeded) {
				return fmt.Errorf("the scan did not end within %s", *timeout)
			}
			return explain(err)
		}
	}
	if err := emit(e.stdout, cn.output, sc, func(tw *tabwriter.Writer) {
		fmt.Fprintln(tw, "SCAN\tHOST\tSTATUS\tRULES\tPASS\tFAIL\tERROR\tSKIPPED\tDURATION")
		dur := "-"
		if sc.DurationMs != nil {
			dur = (time.Duration(*sc.DurationMs) * time.Millisecond).String()
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%d\t%d\t%d\t%d\t%d\t%s\n", sc.Id, h.Host.Hostname, sc.Status, sc.RulesTotal,
			sc.Counts.Pass, sc.Counts.Fail, sc.Counts.Error, sc.Counts.Skipped, dur)
	}); err != nil {
		return err
	}
	if !*wait {
		return nil
	}
	switch {
	case sc.Status != client.ScanStatusCompleted:
		return &exitErr{exitFailed, fmt.Errorf("the scan ended %s: %s", sc.Status, deref(sc.Error))}
	case *failOnFindings && sc.Counts.Fail > 0:
		return &exitErr{exitFailed, fmt.Errorf("%d rules failed", sc.Counts.Fail)}
	}
	return nil
}

// --- alerts

func runAlerts(ctx context.Context, e env, args []string) error {
	c := find("alerts")
	if len(args) > 0 && args[0] == "list" {
		args = args[1:]
	}
	fs := newFlags(e, c.name, c.summary, c.usage)
	var cn conn
	cn.register(fs, true)
	state := fs.String("state", "", "only alerts in the `state`: active, acknowledged, silenced, resolved or dismissed")
	severity := fs.String("severity", "", "only alerts of the `severity`")
	hostArg := fs.String("host", "", "only alerts of the `host` (a name or an id)")
	since := fs.String("since", "", "only alerts at or after `time` (RFC 3339, or a duration such as 24h)")
	limit := fs.Int("limit", 100, "at most `N` alerts (0: all)")
	if pos, err := parse(fs, args); err != nil {
		return err
	} else if len(pos) > 0 {
		return usageErr("alerts takes no arguments")
	}
	if err := cn.checkOutput(); err != nil {
		return err
	}
	p := client.ListAlertsParams{}
	if *state != "" {
		s := client.AlertState(*state)
		p.State = &s
	}
	if *severity != "" {
		s := client.Severity(*severity)
		p.Severity = &s
	}
	t, err := parseTime("since", *since)
	if err != nil {
		return err
	}
	p.Since = t
	cl, err := cn.client(e, true)
	if err != nil {
		return err
	}
	if *hostArg != "" {
		h, err := cl.FindHost(ctx, *hostArg)
		if err != nil {
			return explain(err)
		}
		p.HostId = &h.Host.Id
	}
	alerts := []client.Alert{}
	for a, err := range cl.Alerts(ctx, &p) {
		if err != nil {
			return explain(err)
		}
		alerts = append(alerts, a)
		if *limit > 0 && len(alerts) >= *limit {
			break
		}
	}
	return emit(e.stdout, cn.output, alerts, func(tw *tabwriter.Writer) {
		fmt.Fprintln(tw, "ID\tSEVERITY\tSTATE\tTYPE\tOCCURRED\tTITLE")
		for _, a := range alerts {
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\n", a.Id, a.Severity, a.State, a.AlertType, a.OccurredAt.UTC().Format(time.RFC3339), a.Title)
		}
	})
}

// --- audit export

func runAudit(ctx context.Context, e env, args []string) error {
	c := find("audit")
	if done, err := onlySubcommand(e, c, "export", args); done {
		return err
	}
	fs := newFlags(e, "audit export", c.summary, c.usage)
	var cn conn
	cn.register(fs, false)
	format := fs.String("format", "json", "`format`: json (an array of events) or csv")
	out := fs.String("out", "-", "write to `file` (- for standard output)")
	since := fs.String("since", "", "events at or after `time` (RFC 3339, or a duration such as 24h)")
	until := fs.String("until", "", "events before `time` (RFC 3339, or a duration)")
	action := fs.String("action", "", "only events of the `action`")
	resType := fs.String("resource-type", "", "only events of the resource `type`")
	if pos, err := parse(fs, args[1:]); err != nil {
		return err
	} else if len(pos) > 0 {
		return usageErr("audit export takes no arguments")
	}
	if *format != "json" && *format != "csv" {
		return usageErr("--format %q: want json or csv", *format)
	}
	p := client.ExportAuditEventsParams{}
	f := client.ExportAuditEventsParamsFormat(*format)
	p.Format = &f
	var err error
	if p.Since, err = parseTime("since", *since); err != nil {
		return err
	}
	if p.Until, err = parseTime("until", *until); err != nil {
		return err
	}
	if *action != "" {
		p.Action = action
	}
	if *resType != "" {
		p.ResourceType = resType
	}
	cl, err := cn.client(e, true)
	if err != nil {
		return err
	}
	return writeOut(e, *out, func(w io.Writer) error { return explain(cl.DownloadAuditEvents(ctx, &p, w)) })
}

// onlySubcommand checks that args start with sub, the only subcommand of c; otherwise it
// prints c's help (for a help flag) or returns a usage error, and says it is done.
func onlySubcommand(e env, c command, sub string, args []string) (done bool, err error) {
	if len(args) > 0 && args[0] == sub {
		return false, nil
	}
	if len(args) > 0 && (args[0] == "-h" || args[0] == "--help" || args[0] == "-help") {
		fmt.Fprintf(e.stderr, "%s\n\nUsage: openwatch %s\n\n%s\n", c.summary, c.usage, exitCodesHelp)
		return true, nil
	}
	return true, usageErr("want a subcommand: %s", c.usage)
}

// writeOut writes to standard output ("-") or to a file, which is removed if writing fails.
func writeOut(e env, path string, write func(io.Writer) error) error {
	if path == "-" || path == "" {
		return write(e.stdout)
	}
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o600)
	if err != nil {
		return err
	}
	if err := write(f); err != nil {
		f.Close()
		os.Remove(path)
		return err
	}
	return f.Close()
}

// --- report generate

func runReport(ctx context.Context, e env, args []string) error {
	c := find("report")
	if done, err := onlySubcommand(e, c, "generate", args); done {
		return err
	}
	fs := newFlags(e, "report generate", c.summary, c.usage)
	var cn conn
	cn.register(fs, true)
	kind := fs.String("kind", "", "report `kind`: compliance, posture, vulnerability, audit or patch_history (required)")
	scope := fs.String("scope", "fleet", "what it covers: fleet, group:ID or host:HOST")
	framework := fs.String("framework", "", "framework `id` (compliance, posture)")
	since := fs.String("since", "", "start of an audit or patch history report (RFC 3339 or a duration such as 720h)")
	until := fs.String("until", "", "end of an audit or patch history report")
	minSev := fs.String("min-severity", "", "least advisory `severity` of a vulnerability report")
	wait := fs.Bool("wait", false, "wait for the report, then download its export")
	format := fs.String("format", "json", "with --wait, the export `format`: json, csv, pdf, oscal or oscal-plan")
	out := fs.String("out", "-", "with --wait, write the export to `file` (- for standard output)")
	timeout := fs.Duration("timeout", 0, "with --wait, give up after this `duration` (0: never)")
	poll := fs.Duration("poll-interval", 2*time.Second, "with --wait, how often the report is read")
	if pos, err := parse(fs, args[1:]); err != nil {
		return err
	} else if len(pos) > 0 {
		return usageErr("report generate takes no arguments")
	}
	if *kind == "" {
		return usageErr("--kind is required")
	}
	if err := cn.checkOutput(); err != nil {
		return err
	}
	req := client.ReportGenerateRequest{Kind: client.ReportKind(*kind)}
	params := client.ReportParameters{}
	var err error
	if params.Since, err = parseTime("since", *since); err != nil {
		return err
	}
	if params.Until, err = parseTime("until", *until); err != nil {
		return err
	}
	if *framework != "" {
		params.Framework = framework
	}
	if *minSev != "" {
		s := client.ReportParametersMinSeverity(*minSev)
		params.MinSeverity = &s
	}
	if params != (client.ReportParameters{}) {
		req.Parameters = &params
	}
	cl, err := cn.client(e, true)
	if err != nil {
		return err
	}
	switch typ, ref, _ := strings.Cut(*scope, ":"); typ {
	case "fleet":
		if req.Kind == client.ReportKindCompliance || req.Kind == client.ReportKindPosture || req.Kind == client.ReportKindVulnerability {
			req.Scope = &client.ReportScope{Type: client.ReportScopeTypeFleet}
		}
	case "group":
		id, err := uuid.Parse(ref)
		if err != nil {
			return usageErr("--scope group:ID wants the group's id")
		}
		req.Scope = &client.ReportScope{Type: client.ReportScopeTypeGroup, Id: &id}
	case "host":
		h, err := cl.FindHost(ctx, ref)
		if err != nil {
			return explain(err)
		}
		req.Scope = &client.ReportScope{Type: client.ReportScopeTypeHost, Id: &h.Host.Id}
	default:
		return usageErr("--scope %q: want fleet, group:ID or host:HOST", *scope)
	}
	r, err := cl.RequestReport(ctx, req)
	if err != nil {
		return explain(err)
	}
	if !*wait {
		return emit(e.stdout, cn.output, r, func(tw *tabwriter.Writer) {
			fmt.Fprintf(tw, "Report %s (%s) is %s.\n", r.Id, r.Kind, r.Status)
		})
	}
	wctx := ctx
	if *timeout > 0 {
		var cancel context.CancelFunc
		wctx, cancel = context.WithTimeout(ctx, *timeout)
		defer cancel()
	}
	bar := newProgressBar(e, "report "+string(r.Kind))
	r, err = cl.WaitReport(wctx, r.Id, openwatch.WaitOptions{PollInterval: *poll, OnProgress: func(p openwatch.Progress) { bar.set(p.Status, p.Done, p.Total) }})
	bar.done()
	if err != nil {
		if errors.Is(err, context.DeadlineExceeded) {
			return fmt.Errorf("the report did not complete within %s", *timeout)
		}
		return explain(err)
	}
	if r.Status != client.ReportStatusCompleted {
		return &exitErr{exitFailed, fmt.Errorf("report %s failed: %s", r.Id, deref(r.Error))}
	}
	if err := writeOut(e, *out, func(w io.Writer) error { return explain(cl.DownloadReport(ctx, r.Id, *format, w)) }); err != nil {
		return err
	}
	if *out != "-" && *out != "" {
		fmt.Fprintf(e.stderr, "Report %s written to %s (%s).\n", r.Id, *out, *format)
	}
	return nil
}
