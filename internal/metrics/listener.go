package metrics

import (
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// ListenerOptions configure Serve.
type ListenerOptions struct {
	// Addr is host:port; port 0 picks a free one.
	Addr string
	// BearerToken, when set, must come as "Authorization: Bearer <token>".
	BearerToken string
	// BasicUsername and BasicPassword, when set, must come as basic auth.
	BasicUsername, BasicPassword string
	// TLSCert and TLSKey, when set, make the listener HTTPS.
	TLSCert, TLSKey string
	Logger          *slog.Logger
}

// ReadBearerTokenFile reads a bearer token file: its first line, trimmed. An empty token
// is an error, so a misconfigured file never turns authentication off.
func ReadBearerTokenFile(path string) (string, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return "", fmt.Errorf("read metrics.bearer_token_file: %w", err)
	}
	token, _, _ := strings.Cut(string(data), "\n")
	token = strings.TrimSpace(token)
	if token == "" {
		return "", fmt.Errorf("metrics.bearer_token_file %s is empty", path)
	}
	return token, nil
}

// Handler returns the GET /metrics handler, asking for o's credentials when it has some.
func (m *Metrics) Handler(o ListenerOptions) http.Handler {
	metricsHandler := promhttp.HandlerFor(m.Registry, promhttp.HandlerOpts{
		Registry: m.Registry, MaxRequestsInFlight: 4, Timeout: 10 * time.Second,
	})
	mux := http.NewServeMux()
	mux.Handle("GET /metrics", authenticated(o, metricsHandler))
	return mux
}

// authenticated answers 401 unless the request carries o's credentials. Comparisons are
// of SHA-256 digests in constant time, so neither the length nor a prefix leaks.
func authenticated(o ListenerOptions, next http.Handler) http.Handler {
	if o.BearerToken == "" && o.BasicUsername == "" {
		return next
	}
	equal := func(a, b string) bool {
		x, y := sha256.Sum256([]byte(a)), sha256.Sum256([]byte(b))
		return subtle.ConstantTimeCompare(x[:], y[:]) == 1
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ok := false
		if o.BearerToken != "" {
			got, found := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
			ok = found && equal(got, o.BearerToken)
			if !ok {
				w.Header().Set("WWW-Authenticate", `Bearer realm="openwatch metrics"`)
			}
		} else {
			user, pass, found := r.BasicAuth()
			ok = found && equal(user, o.BasicUsername) && equal(pass, o.BasicPassword)
			if !ok {
				w.Header().Set("WWW-Authenticate", `Basic realm="openwatch metrics"`)
			}
		}
		if !ok {
			http.Error(w, "authentication required", http.StatusUnauthorized)
			return
		}
		next.ServeHTTP(w, r)
	})
}

// Serve serves the metrics on o.Addr until stop is called. It returns the address it
// listens on (the chosen port when o.Addr asks for port 0).
func (m *Metrics) Serve(o ListenerOptions) (addr net.Addr, stop func(), err error) {
	var tlsConf *tls.Config
	if o.TLSCert != "" {
		cert, err := tls.LoadX509KeyPair(o.TLSCert, o.TLSKey)
		if err != nil {
			return nil, nil, fmt.Errorf("load metrics tls certificate: %w", err)
		}
		tlsConf = &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12}
	}
	ln, err := net.Listen("tcp", o.Addr)
	if err != nil {
		return nil, nil, fmt.Errorf("listen for metrics on %s: %w", o.Addr, err)
	}
	if tlsConf != nil {
		ln = tls.NewListener(ln, tlsConf)
	}
	log := o.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	srv := &http.Server{Handler: m.Handler(o), ReadHeaderTimeout: 10 * time.Second,
		ErrorLog: slog.NewLogLogger(log.Handler(), slog.LevelWarn)}
	done := make(chan struct{})
	go func() {
		defer close(done)
		if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			log.Error("metrics listener stopped", slog.Any("error", err))
		}
	}()
	return ln.Addr(), func() {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		defer cancel()
		_ = srv.Shutdown(ctx)
		<-done
	}, nil
}
