package main

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"flag"
	"fmt"
	"os"

	"github.com/openwatch/openwatch/internal/report"
)

// runVerifyReport checks a report export offline: its signature over every byte, and,
// with --key, that the signing key is one of the trusted keys.
func runVerifyReport(_ context.Context, e env, args []string) error {
	fs := flag.NewFlagSet("openwatch verify-report", flag.ContinueOnError)
	fs.SetOutput(e.stderr)
	keyFile := fs.String("key", "", "trusted keys: a PEM public key file, or the JSON saved from GET /api/v1/reports/signing-key")
	if err := fs.Parse(args); err != nil {
		return err
	}
	rest := fs.Args()
	if len(rest) > 0 {
		// Flags may follow the file name.
		if err := fs.Parse(rest[1:]); err != nil {
			return err
		}
		rest = append(rest[:1], fs.Args()...)
	}
	if len(rest) != 1 {
		fmt.Fprintln(e.stderr, "usage: openwatch verify-report FILE [--key KEY]")
		return errUsage
	}
	file, err := os.ReadFile(rest[0])
	if err != nil {
		return err
	}
	var trusted []report.PublicKey
	if *keyFile != "" {
		data, err := os.ReadFile(*keyFile)
		if err != nil {
			return err
		}
		if trusted, err = report.ParseTrustedKeys(data); err != nil {
			return fmt.Errorf("--key %s: %w", *keyFile, err)
		}
	}
	v, err := report.Verify(file, trusted)
	if err != nil {
		return fmt.Errorf("INVALID: %w", err)
	}
	fmt.Fprintf(e.stdout, "valid %s report export\nreport: %s\nkind: %s\ntitle: %s\ngenerated at: %s\nsigning key id: %s\naudit chain head: seq %d, hash %s\n",
		v.Format, v.ReportID, v.Kind, v.Title, v.GeneratedAt, v.KeyID, v.AuditChainHead.Seq, v.AuditChainHead.Hash)
	if v.Trusted {
		fmt.Fprintln(e.stdout, "key: trusted (one of the keys given with --key)")
	} else {
		sum := sha256.Sum256(v.PublicKey)
		fmt.Fprintf(e.stdout, "key: NOT YET TRUSTED: the signature matches the key embedded in the file, but nothing says that key is the server's.\n"+
			"Compare its fingerprint with the key id listed by GET /api/v1/reports/signing-key (or pass that document with --key):\n"+
			"  key id %s\n  public key %s\n  sha256 %s\n", v.KeyID, base64.StdEncoding.EncodeToString(v.PublicKey),
			base64.StdEncoding.EncodeToString(sum[:]))
	}
	return nil
}
