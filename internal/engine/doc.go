// Package engine evaluates compliance rules (package rule) on a host over SSH.
//
// A scan compiles the host's rules into one POSIX shell program that runs in one SSH
// session (sshx.Batch, with the privilege mode learned for the host). The program is a
// list of records: the host's identity (/etc/os-release), its capabilities, each shared
// source read once (sshd -T, the package database for the packages the rules name, the
// systemd units, sysctl values and files, the modprobe configuration, mounts, file
// modes, one find per file tree (every condition its checks test is a branch of it), the
// audit rules loaded and persisted, the kernel command line and boot loader
// configuration), and one record per check that reads something of its own (a config
// key, a file's content, a command). Many checks evaluate against one source. The walks
// of file trees, the longest records, start in the background as the program starts and
// overlap the rest; their frames come last.
//
// Every record is framed by sshx with the batch's random delimiter (a per-scan nonce), so
// nothing a target prints can forge a frame. Each record's standard output is capped on
// the target (4 KiB for a check's own record, more for a shared source) and marked
// truncated; each runs under timeout(1) when the host has it, and the whole program under
// the scan's deadline.
//
// Evaluation (Evaluate) is pure Go: records in, results out, unit-tested without SSH.
// Outcomes are pass, fail, skipped (not applicable, with the reason) and error (with the
// reason: no root, a command missing, a timeout, output that cannot be parsed or was
// truncated). A check that did not really look at the host never fails: it errors.
//
// Evidence per result: the method and its parameters with variables expanded, the exact
// command text of the records it read, their output (capped), the expected and actual
// values, the variable values used, and the time its records took.
package engine
