// Command benchceiling is the ceiling scripts/bench.sh measures OpenWatch against: a bare
// Go HTTPS server on loopback, with the same certificate, answering every request with a
// small fixed JSON body. Whatever OpenWatch does per request beyond this is its own cost.
package main

import (
	"crypto/tls"
	"flag"
	"fmt"
	"net"
	"net/http"
	"os"
)

func main() {
	cert := flag.String("cert", "", "TLS certificate file")
	key := flag.String("key", "", "TLS key file")
	flag.Parse()
	if err := run(*cert, *key); err != nil {
		fmt.Fprintln(os.Stderr, "benchceiling:", err)
		os.Exit(1)
	}
}

func run(certFile, keyFile string) error {
	pair, err := tls.LoadX509KeyPair(certFile, keyFile)
	if err != nil {
		return err
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return err
	}
	fmt.Printf("listening on %d\n", l.Addr().(*net.TCPAddr).Port)
	body := []byte(`{"status":"healthy"}` + "\n")
	srv := &http.Server{
		Handler: http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
			w.Header().Set("Content-Type", "application/json")
			_, _ = w.Write(body)
		}),
		TLSConfig: &tls.Config{Certificates: []tls.Certificate{pair}, MinVersion: tls.VersionTLS12},
	}
	return srv.ServeTLS(l, "", "")
}
