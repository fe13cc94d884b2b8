// Package patchtest is the test harness for patching with apt: NewRepo builds .deb
// packages with dpkg-deb (owtest-app 1.0 and 1.1, owtest-broken whose 1.1 post-install
// breaks its health command, owtest-sec whose 1.1 is only in a "-security" suite, and
// owtest-tool depending on owtest-lib) into a local repository, and StartTarget runs a
// real sshd in its own mount namespace over throwaway overlays of every directory apt
// and dpkg write, with apt pointed at only that repository and version 1.0 installed.
//
// Nothing outside the overlays changes: this machine's dpkg state, packages and apt
// sources stay as they were, and apt never reaches a network. Targets are cheap (one
// sshd, one apt-get update and install of a few tiny packages) and share one Repo, so
// tests and benchmarks run many at once. Tests that use it run as root, like sshtest's.
package patchtest
