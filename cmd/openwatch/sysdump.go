package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"path/filepath"

	"github.com/openwatch/openwatch/internal/authz"
	"github.com/openwatch/openwatch/internal/support"
)

// managedLogTail is how much of the managed database's log the bundle keeps (its end).
const managedLogTail = 1 << 20

// runSysdump writes a support bundle: `openwatch sysdump [--output FILE|-]`.
func runSysdump(ctx context.Context, e env, args []string) error {
	var output string
	cfg, log, err := setup("sysdump", e, args, func(fs *flag.FlagSet) {
		fs.StringVar(&output, "output", "", "write the bundle to this `file` ('-': standard output; default: openwatch-sysdump-<time>.tar.gz here)")
	})
	if err != nil {
		return err
	}
	db, aw, err := openAudited(ctx, cfg, log)
	if err != nil {
		return err
	}
	defer db.Close(context.WithoutCancel(ctx))
	svc := support.NewService(db.Pool, aw, support.Options{Config: cfg, Logger: log, Extra: func() []support.File {
		path := db.ManagedLogPath()
		if path == "" {
			return nil
		}
		data, err := tail(path, managedLogTail)
		if err != nil {
			return []support.File{{Name: "postgresql.log.error.txt", Data: []byte(err.Error() + "\n")}}
		}
		return []support.File{{Name: "postgresql.log", Data: data}}
	}})
	b, err := svc.Create(ctx, &authz.Principal{})
	if err != nil {
		return err
	}
	if output == "-" {
		_, err := e.stdout.Write(b.Data)
		return err
	}
	if output == "" {
		output = b.Name
	}
	if err := os.WriteFile(output, b.Data, 0o600); err != nil {
		return fmt.Errorf("write bundle: %w", err)
	}
	fmt.Fprintf(e.stderr, "wrote %s (%d bytes, %d files)\n", filepath.Clean(output), len(b.Data), len(b.Manifest.Files))
	return nil
}

// tail returns the last n bytes of the file at path.
func tail(path string, n int64) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer func() { _ = f.Close() }()
	st, err := f.Stat()
	if err != nil {
		return nil, err
	}
	off := max(st.Size()-n, 0)
	buf := make([]byte, st.Size()-off)
	_, err = f.ReadAt(buf, off)
	return buf, err
}
