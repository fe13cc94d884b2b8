#!/usr/bin/env bash
# Installs the PostgreSQL server programs (initdb, postgres) that the tests and the
# embedded default database need, unless they are already present on $PATH or in
# /usr/lib/postgresql/<major>/bin. Idempotent and silent when nothing is to be done.
#
# As root on Debian or Ubuntu it runs apt-get; anywhere else it says what to install and
# exits 1.
set -euo pipefail

have_initdb() {
	local d
	if command -v initdb >/dev/null 2>&1; then
		return 0
	fi
	for d in /usr/lib/postgresql/*/bin; do
		if [ -x "$d/initdb" ] && [ -x "$d/postgres" ]; then
			return 0
		fi
	done
	return 1
}

if have_initdb; then
	exit 0
fi

if [ "$(id -u)" -eq 0 ] && command -v apt-get >/dev/null 2>&1; then
	echo "install-postgres: installing PostgreSQL server binaries with apt-get" >&2
	export DEBIAN_FRONTEND=noninteractive
	apt-get update -qq
	apt-get install -y -qq --no-install-recommends postgresql >/dev/null
	if have_initdb; then
		exit 0
	fi
	echo "install-postgres: apt-get installed postgresql, but initdb is still missing" >&2
	exit 1
fi

cat >&2 <<'MSG'
install-postgres: PostgreSQL server binaries (initdb, postgres) not found.
Install PostgreSQL 13 or newer, for example:
  Debian/Ubuntu:  sudo apt-get install --no-install-recommends postgresql
  Fedora/RHEL:    sudo dnf install postgresql-server
  Alpine:         sudo apk add postgresql
  macOS:          brew install postgresql
or point the tests at an existing server with OPENWATCH_TEST_DSN (a superuser DSN).
MSG
exit 1
