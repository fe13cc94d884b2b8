package openwatch

import (
	"context"
	"iter"

	"github.com/openwatch/openwatch/gen/client"
)

// Page is one page of a cursor-paginated list: its items and the cursor of the next page
// (nil on the last page).
type Page[T any] struct {
	Items []T
	Next  *string
}

// Pages iterates over every item of a cursor-paginated list: fetch reads the page at
// cursor (nil for the first page). Iteration stops at the first error, which is yielded
// with the zero item, or when the caller stops ranging.
func Pages[T any](ctx context.Context, fetch func(ctx context.Context, cursor *string) (Page[T], error)) iter.Seq2[T, error] {
	return func(yield func(T, error) bool) {
		var cursor *string
		for {
			p, err := fetch(ctx, cursor)
			if err != nil {
				var zero T
				yield(zero, err)
				return
			}
			for _, it := range p.Items {
				if !yield(it, nil) {
					return
				}
			}
			if p.Next == nil || *p.Next == "" {
				return
			}
			cursor = p.Next
		}
	}
}

// Hosts iterates over the hosts that match params (which may be nil).
func (c *Client) Hosts(ctx context.Context, params *client.ListHostsParams) iter.Seq2[client.HostListItem, error] {
	p := client.ListHostsParams{}
	if params != nil {
		p = *params
	}
	return Pages(ctx, func(ctx context.Context, cursor *string) (Page[client.HostListItem], error) {
		p.Cursor = cursor
		res, err := c.ListHostsWithResponse(ctx, &p)
		if err != nil {
			return Page[client.HostListItem]{}, err
		}
		v, err := result(res.HTTPResponse, res.Body, res.JSON200, nil)
		if err != nil {
			return Page[client.HostListItem]{}, err
		}
		return Page[client.HostListItem]{Items: v.Hosts, Next: v.NextCursor}, nil
	})
}

// Alerts iterates over the alerts that match params (which may be nil), newest first.
func (c *Client) Alerts(ctx context.Context, params *client.ListAlertsParams) iter.Seq2[client.Alert, error] {
	p := client.ListAlertsParams{}
	if params != nil {
		p = *params
	}
	return Pages(ctx, func(ctx context.Context, cursor *string) (Page[client.Alert], error) {
		p.Cursor = cursor
		res, err := c.ListAlertsWithResponse(ctx, &p)
		if err != nil {
			return Page[client.Alert]{}, err
		}
		v, err := result(res.HTTPResponse, res.Body, res.JSON200, nil)
		if err != nil {
			return Page[client.Alert]{}, err
		}
		return Page[client.Alert]{Items: v.Items, Next: v.NextCursor}, nil
	})
}

// Scans iterates over the scans that match params (which may be nil), newest first.
func (c *Client) Scans(ctx context.Context, params *client.ListScansParams) iter.Seq2[client.Scan, error] {
	p := client.ListScansParams{}
	if params != nil {
		p = *params
	}
	return Pages(ctx, func(ctx context.Context, cursor *string) (Page[client.Scan], error) {
		p.Cursor = cursor
		res, err := c.ListScansWithResponse(ctx, &p)
		if err != nil {
			return Page[client.Scan]{}, err
		}
		v, err := result(res.HTTPResponse, res.Body, res.JSON200, nil)
		if err != nil {
			return Page[client.Scan]{}, err
		}
		return Page[client.Scan]{Items: v.Items, Next: v.NextCursor}, nil
	})
}

// Reports iterates over the reports that match params (which may be nil), newest first.
func (c *Client) Reports(ctx context.Context, params *client.ListReportsParams) iter.Seq2[client.Report, error] {
	p := client.ListReportsParams{}
	if params != nil {
		p = *params
	}
	return Pages(ctx, func(ctx context.Context, cursor *string) (Page[client.Report], error) {
		p.Cursor = cursor
		res, err := c.ListReportsWithResponse(ctx, &p)
		if err != nil {
			return Page[client.Report]{}, err
		}
		v, err := result(res.HTTPResponse, res.Body, res.JSON200, nil)
		if err != nil {
			return Page[client.Report]{}, err
		}
		return Page[client.Report]{Items: v.Items, Next: v.NextCursor}, nil
	})
}

// Collect gathers every item of seq, or returns the first error.
func Collect[T any](seq iter.Seq2[T, error]) ([]T, error) {
	var out []T
	for v, err := range seq {
		if err != nil {
			return out, err
		}
		out = append(out, v)
	}
	return out, nil
}
