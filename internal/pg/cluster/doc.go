// Package cluster runs OpenWatch's embedded default database: when no database DSN is
// configured, the binary keeps a PostgreSQL cluster of its own, made and started with the
// system's PostgreSQL server programs.
//
// Invariants:
//   - The server listens on a unix socket only (listen_addresses is empty), in a directory
//     of mode 0700 with unix_socket_permissions 0700, so only its owner and root can
//     connect; local trust authentication is then safe. TCP connections are rejected in
//     pg_hba.conf as well.
//   - As root, PostgreSQL runs as the `postgres` system user (or `nobody`), which owns the
//     cluster directory. When that user cannot reach <data_dir>/pg, the cluster lives in
//     /var/lib/openwatch-pg/<hash of the data dir> instead; <data_dir>/pg.location records
//     the choice so every later subcommand uses the same cluster.
//   - One server per data dir, shared by every process using it (serve, worker, the admin
//     commands): the first to need it starts it, the others attach to it. The server is
//     not tied to the process that started it; it runs in its own process group, so a
//     terminal's Ctrl-C reaches it only through the processes using it.
//   - Every process using the server holds a shared flock on <data_dir>/pg.lease from Start
//     to Stop (the kernel drops it when the process dies, however it dies). Stop shuts the
//     server down only when no one else holds the lease: the last user stops it, whoever
//     started it.
//   - <data_dir>/pg.lock is held exclusively across every decision and the action it
//     decides: "is it running?" and attach or start (Start, and a restart), "am I the last
//     user?" and the shutdown (Stop). A process attaching while another stops therefore
//     finds the server either up and kept up, or down and starts it again.
//   - A server that disappears while in use (killed, crashed) is restarted by a process
//     still using it: each Cluster watches the postmaster, and the first to notice starts
//     it again under pg.lock; the others find it running and attach. The socket path does
//     not change, so connection pools recover by themselves.
//   - When the last user dies without stopping the server (SIGKILL), the server keeps
//     running until the next process attaches to it and, as last user, stops it.
//   - fsync stays on: this is the product's real data.
package cluster
