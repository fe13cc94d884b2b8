package sshx

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"strings"
	"time"
)

// maxBannerLines bounds the lines a server may send before its identification
// line (RFC 4253 section 4.2 allows other lines first).
const maxBannerLines = 20

// Banner is the credential-free probe: it connects to addr over TCP and reads
// the server's SSH identification line ("SSH-2.0-..."), all within timeout
// (and ctx). It returns the line without its line ending and the elapsed
// time. A peer that answers with something else fails with ErrProtocol; an
// address outside the allowed networks is never dialled (ErrNotAllowed).
func (d *Dialer) Banner(ctx context.Context, addr string, timeout time.Duration) (string, time.Duration, error) {
	start := time.Now()
	if timeout <= 0 {
		timeout = DefaultDialTimeout
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	conn, err := d.connect(ctx, addr)
	if err != nil {
		return "", time.Since(start), fmt.Errorf("sshx: banner %s: %w", addr, err)
	}
	defer func() { _ = conn.Close() }()
	deadline, _ := ctx.Deadline()
	_ = conn.SetDeadline(deadline)
	stop := context.AfterFunc(ctx, func() { _ = conn.Close() })
	defer stop()

	line, got, err := readIdentification(bufio.NewReaderSize(conn, 512))
	if err != nil {
		if !got && ctx.Err() != nil {
			err = fmt.Errorf("%w (%w)", ctx.Err(), err)
		} else {
			err = identificationError(err, got)
		}
		return "", time.Since(start), fmt.Errorf("sshx: banner %s: %w", addr, err)
	}
	return line, time.Since(start), nil
}

// readIdentification returns the first line starting with "SSH-". A peer
// that sends other lines and then stalls or closes is not an SSH server.
// It reports whether the peer sent anything.
func readIdentification(r *bufio.Reader) (string, bool, error) {
	for n := 0; n < maxBannerLines; n++ {
		raw, err := r.ReadSlice('\n')
		if err != nil {
			return "", n > 0 || len(raw) > 0, err
		}
		line := strings.TrimRight(string(raw), "\r\n")
		if strings.HasPrefix(line, "SSH-") {
			return line, true, nil
		}
	}
	return "", true, fmt.Errorf("%w: no SSH identification line", ErrProtocol)
}

// identificationError classifies a read error; got says whether the peer
// sent anything.
func identificationError(err error, got bool) error {
	switch {
	case errors.Is(err, ErrProtocol):
		return err
	case errors.Is(err, bufio.ErrBufferFull):
		return fmt.Errorf("%w: line too long", ErrProtocol)
	case got:
		return fmt.Errorf("%w: no SSH identification line: %w", ErrProtocol, err)
	case networkErrorType(err) == TypeTimeout:
		return err
	}
	return fmt.Errorf("%w: connection closed before identification: %w", ErrProtocol, err)
}
