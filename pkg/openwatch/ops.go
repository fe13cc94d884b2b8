package openwatch

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"iter"
	"net/http"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/openwatch/openwatch/gen/client"
)

// ErrNotFound is returned by FindHost when no host has the name.
var ErrNotFound = errors.New("openwatch: not found")

// FindHost returns the host with the id, or else the one whose hostname or display name
// is name (exactly, ignoring case). Several hosts of that name are an error.
func (c *Client) FindHost(ctx context.Context, idOrName string) (*client.HostDetailResponse, error) {
	if id, err := uuid.Parse(idOrName); err == nil {
		res, err := c.GetHostWithResponse(ctx, id, nil)
		if err != nil {
			return nil, err
		}
		return result(res.HTTPResponse, res.Body, res.JSON200, nil)
	}
	q := idOrName
	var found []client.HostListItem
	for h, err := range c.Hosts(ctx, &client.ListHostsParams{Q: &q}) {
		if err != nil {
			return nil, err
		}
		if strings.EqualFold(h.Hostname, idOrName) || (h.DisplayName != nil && strings.EqualFold(*h.DisplayName, idOrName)) {
			found = append(found, h)
		}
	}
	switch len(found) {
	case 0:
		return nil, fmt.Errorf("%w: no host is named %q", ErrNotFound, idOrName)
	case 1:
		return c.FindHost(ctx, found[0].Id.String())
	}
	return nil, fmt.Errorf("%d hosts are named %q: give the host's id", len(found), idOrName)
}

// AddHost registers a host (with an Idempotency-Key, so a retry never adds it twice).
func (c *Client) AddHost(ctx context.Context, req client.HostCreateRequest) (*client.HostResponse, error) {
	key := NewIdempotencyKey()
	res, err := c.CreateHostWithResponse(ctx, &client.CreateHostParams{IdempotencyKey: &key}, req)
	if err != nil {
		return nil, err
	}
	return result(res.HTTPResponse, res.Body, res.JSON201, nil)
}

// StartScan queues a scan of the host (with an Idempotency-Key).
func (c *Client) StartScan(ctx context.Context, hostID uuid.UUID, req client.ScanRequest) (*client.Scan, error) {
	key := NewIdempotencyKey()
	res, err := c.StartHostScanWithResponse(ctx, hostID, &client.StartHostScanParams{IdempotencyKey: &key}, req)
	if err != nil {
		return nil, err
	}
	return result(res.HTTPResponse, res.Body, res.JSON202, nil)
}

// ScanEnded reports whether the scan status is final.
func ScanEnded(s client.ScanStatus) bool {
	return s == client.ScanStatusCompleted || s == client.ScanStatusFailed || s == client.ScanStatusCancelled
}

// Progress is a scan's or report's progress as WaitScan and WaitReport report it.
type Progress struct {
	Status string
	Done   int
	Total  int
}

// WaitOptions tune WaitScan and WaitReport.
type WaitOptions struct {
	// OnProgress, when set, is called with each progress seen.
	OnProgress func(Progress)
	// PollInterval is how often the state is read when no event says it changed
	// (default 2s).
	PollInterval time.Duration
	// NoEvents polls only, without the live event stream.
	NoEvents bool
}

func (o WaitOptions) interval() time.Duration {
	if o.PollInterval > 0 {
		return o.PollInterval
	}
	return 2 * time.Second
}

// GetScanState returns the scan.
func (c *Client) GetScanState(ctx context.Context, id uuid.UUID) (*client.Scan, error) {
	res, err := c.GetScanWithResponse(ctx, id)
	if err != nil {
		return nil, err
	}
	return result(res.HTTPResponse, res.Body, res.JSON200, nil)
}

// WaitScan waits until the scan ends and returns it. It follows the live event stream
// (topic scans) for progress and reads the scan again whenever an event says it changed;
// when the stream cannot be opened (or ends) it polls.
func (c *Client) WaitScan(ctx context.Context, id uuid.UUID, o WaitOptions) (*client.Scan, error) {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	changed := make(chan struct{}, 1)
	progress := make(chan Progress, 16)
	if !o.NoEvents {
		if seq, err := c.Events(ctx, "scans"); err == nil {
			go followScan(seq, id, progress, changed)
		}
	}
	tick := time.NewTicker(o.interval())
	defer tick.Stop()
	read := true
	for {
		if read {
			s, err := c.GetScanState(ctx, id)
			if err != nil {
				return nil, err
			}
			if o.OnProgress != nil {
				o.OnProgress(Progress{Status: string(s.Status), Done: s.Progress.RecordsDone, Total: s.Progress.RecordsTotal})
			}
			if ScanEnded(s.Status) {
				return s, nil
			}
		}
		read = true
		// OnProgress is only ever called from this goroutine.
		select {
		case <-ctx.Done():
			return nil, ctx.Err()
		case p := <-progress:
			if o.OnProgress != nil {
				o.OnProgress(p)
			}
			read = false
		case <-changed:
		case <-tick.C:
		}
	}
}

// followScan passes the scan's progress events on, and says when it finished (or when the
// stream was reset, so events may have been missed).
func followScan(seq iter.Seq2[Event, error], id uuid.UUID, progress chan<- Progress, changed chan struct{}) {
	for ev, err := range seq {
		if err != nil {
			return
		}
		var d struct {
			ScanID       string `json:"scan_id"`
			Status       string `json:"status"`
			RecordsDone  int    `json:"records_done"`
			RecordsTotal int    `json:"records_total"`
		}
		if json.Unmarshal(ev.Data, &d) != nil || d.ScanID != id.String() {
			if ev.Type == "reset" {
				notify(changed)
			}
			continue
		}
		if ev.Type == "scan.finished" {
			notify(changed)
			continue
		}
		select {
		case progress <- Progress{Status: d.Status, Done: d.RecordsDone, Total: d.RecordsTotal}:
		default: // the reader is behind: it reads the scan itself soon
		}
	}
}

func notify(ch chan struct{}) {
	select {
	case ch <- struct{}{}:
	default:
	}
}

// RequestReport asks for a report (with an Idempotency-Key).
func (c *Client) RequestReport(ctx context.Context, req client.ReportGenerateRequest) (*client.Report, error) {
	key := NewIdempotencyKey()
	res, err := c.GenerateReportWithResponse(ctx, &client.GenerateReportParams{IdempotencyKey: &key}, req)
	if err != nil {
		return nil, err
	}
	return result(res.HTTPResponse, res.Body, res.JSON202, nil)
}

// WaitReport polls the report until it completes or fails, and returns it.
func (c *Client) WaitReport(ctx context.Context, id uuid.UUID, o WaitOptions) (*client.Report, error) {
	tick := time.NewTicker(o.interval())
	defer tick.Stop()
	for {
		res, err := c.GetReportWithResponse(ctx, id)
		if err != nil {
			return nil, err
		}
		r, err := result(res.HTTPResponse, res.Body, res.JSON200, nil)
		if err != nil {
			return nil, err
		}
		if o.OnProgress != nil {
			o.OnProgress(Progress{Status: string(r.Status), Done: r.Progress, Total: 100})
		}
		if r.Status == client.ReportStatusCompleted || r.Status == client.ReportStatusFailed {
			return r, nil
		}
		select {
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-tick.C:
		}
	}
}

// DownloadReport writes the export of a completed report in the format (json, csv, pdf,
// oscal, oscal-plan) to w.
func (c *Client) DownloadReport(ctx context.Context, id uuid.UUID, format string, w io.Writer) error {
	res, err := c.ExportReport(ctx, id, &client.ExportReportParams{Format: client.ExportReportParamsFormat(format)})
	return copyBody(res, err, w)
}

// DownloadAuditEvents writes the audit export (JSON lines or CSV, as params.Format says)
// to w.
func (c *Client) DownloadAuditEvents(ctx context.Context, params *client.ExportAuditEventsParams, w io.Writer) error {
	res, err := c.ExportAuditEvents(ctx, params)
	return copyBody(res, err, w)
}

func copyBody(res *http.Response, err error, w io.Writer) error {
	if err != nil {
		return err
	}
	defer res.Body.Close()
	if res.StatusCode >= 300 {
		body, _ := io.ReadAll(io.LimitReader(res.Body, 1<<20))
		if err := Check(res, body); err != nil {
			return err
		}
		return &APIError{StatusCode: res.StatusCode, Body: body}
	}
	_, err = io.Copy(w, res.Body)
	return err
}
