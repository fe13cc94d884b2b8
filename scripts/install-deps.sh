#!/usr/bin/env bash
# Installs the system packages OpenWatch and its tests need, when they are missing:
# PostgreSQL server binaries (the managed database and the test database), Chromium (the
# UI end-to-end test), OpenSSH server and sudo (the SSH tests run a real sshd), kmod (the
# compliance scan tests read the target's modprobe configuration), dpkg-deb, apt and
# unshare (the patch tests build .deb packages and run apt on namespaced targets), poppler-utils
# (the report tests read the PDFs back with pdftotext and pdfinfo), rpm and systemd-analyze (the
# package test reads the .rpm back and rates the units' sandbox) and curl. Uses apt as root;
# otherwise says what to install.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
bash "$here/install-postgres.sh"

missing=()
command -v curl >/dev/null 2>&1 || missing+=(curl ca-certificates)
[ -x /usr/bin/chromium ] || missing+=(chromium)
[ -x /usr/sbin/sshd ] || missing+=(openssh-server)
[ -x /usr/bin/sudo ] || missing+=(sudo)
command -v dpkg-deb >/dev/null 2>&1 || missing+=(dpkg)
command -v apt-get >/dev/null 2>&1 || missing+=(apt)
command -v unshare >/dev/null 2>&1 || missing+=(util-linux)
command -v pdftotext >/dev/null 2>&1 || missing+=(poppler-utils)
command -v rpm >/dev/null 2>&1 || missing+=(rpm)
command -v setpriv >/dev/null 2>&1 || missing+=(util-linux)
command -v systemd-analyze >/dev/null 2>&1 || missing+=(systemd)
command -v modprobe >/dev/null 2>&1 || [ -x /usr/sbin/modprobe ] || [ -x /sbin/modprobe ] || missing+=(kmod)
[ ${#missing[@]} -eq 0 ] && exit 0

if [ "$(id -u)" -ne 0 ] || ! command -v apt-get >/dev/null 2>&1; then
  echo "missing packages: ${missing[*]}; install them with your package manager" >&2
  exit 1
fi
echo "installing ${missing[*]}" >&2
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
