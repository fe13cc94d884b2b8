// Command testop runs a real OpenID Provider (internal/sso/ssotest) on a loopback port for
// the web app's end-to-end run: scripts/e2e.sh starts it and the single sign-on spec
// configures OpenWatch to use it. It prints "issuer=<URL>" once it listens and runs until
// SIGINT or SIGTERM.
package main

import (
	"flag"
	"fmt"
	"os"
	"os/signal"
	"strings"
	"syscall"

	"github.com/openwatch/openwatch/internal/sso/ssotest"
)

func main() {
	addr := flag.String("addr", "127.0.0.1:0", "loopback address to listen on")
	clientID := flag.String("client-id", "openwatch-e2e", "the OAuth client id OpenWatch uses")
	clientSecret := flag.String("client-secret", "openwatch-e2e-secret", "the OAuth client secret")
	users := flag.String("users", "sso-ops:sso-ops-password:ops,sso-contractor:sso-contractor-password:contractors",
		"accounts as username:password:group[+group...], comma-separated")
	flag.Parse()
	var list []ssotest.User
	for _, spec := range strings.Split(*users, ",") {
		parts := strings.SplitN(spec, ":", 3)
		if len(parts) != 3 {
			fmt.Fprintf(os.Stderr, "testop: bad user %q (want username:password:groups)\n", spec)
			os.Exit(2)
		}
		list = append(list, ssotest.User{Subject: "sub-" + parts[0], Username: parts[0], Password: parts[1],
			Email: parts[0] + "@example.com", Groups: strings.Split(parts[2], "+")})
	}
	op, err := ssotest.Start(ssotest.Options{Addr: *addr, ClientID: *clientID, ClientSecret: *clientSecret, Users: list})
	if err != nil {
		fmt.Fprintln(os.Stderr, "testop:", err)
		os.Exit(1)
	}
	fmt.Printf("issuer=%s\n", op.Issuer)
	sig := make(chan os.Signal, 1)
	signal.Notify(sig, syscall.SIGINT, syscall.SIGTERM)
	<-sig
	if err := op.Close(); err != nil {
		fmt.Fprintln(os.Stderr, "testop:", err)
		os.Exit(1)
	}
}
