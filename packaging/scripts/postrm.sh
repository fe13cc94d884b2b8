#!/bin/sh
# openwatch postrm. Debian: $1 is remove, purge, upgrade, ...; RPM: $1 is 0 (erase) or 1
# (upgrade).
set -e

if [ -d /run/systemd/system ] && command -v systemctl >/dev/null; then
  systemctl daemon-reload >/dev/null 2>&1 || true
fi
case "$1" in
  purge)
    rm -rf /var/log/openwatch
    if [ -d /var/lib/openwatch ]; then
      echo "openwatch: kept /var/lib/openwatch (the database, keys and backups) and the openwatch user; delete them by hand when you no longer need the data"
    fi
    ;;
esac
