#!/bin/sh
# openwatch postinst. Debian: $1 is configure and $2 the version configured before (empty
# on a first install); RPM: $1 is 1 (install) or 2 (upgrade).
set -e

case "$1" in
  configure) if [ -n "$2" ]; then action=upgrade; else action=install; fi ;;
  1) action=install ;;
  [2-9]*) action=upgrade ;;
  *) exit 0 ;;
esac

# Directories the server writes (ReadWritePaths of the units). What the server generates
# under the data dir on its first start (the TLS CA and certificate, the secrets and
# signing keys, the managed database) is never touched by the package.
install -d -m 0750 -o openwatch -g openwatch /var/lib/openwatch /var/log/openwatch
install -d -m 0750 -o openwatch -g openwatch /var/lib/openwatch/backups

systemd=no
if [ -d /run/systemd/system ] && command -v systemctl >/dev/null; then
  systemd=yes
  systemctl daemon-reload >/dev/null || true
fi

if [ "$action" = upgrade ]; then
  # The unit is stopped (by prerm on Debian, here on RPM) while the schema changes.
  if [ "$systemd" = yes ]; then
    systemctl stop openwatch.service openwatch-worker.service >/dev/null 2>&1 || true
  fi
  echo "openwatch: applying database migrations"
  if ! runuser -u openwatch -- /usr/bin/openwatch migrate; then
    echo "openwatch: the migrations failed (see above); openwatch serve applies them again when it starts" >&2
  fi
  if [ "$systemd" = yes ]; then
    for unit in openwatch.service openwatch-worker.service; do
      if systemctl is-enabled --quiet "$unit"; then
        systemctl start "$unit" || true
      fi
    done
  fi
  exit 0
fi

if [ "$systemd" = yes ]; then
  systemctl enable openwatch.service >/dev/null 2>&1 || true
  systemctl start openwatch.service || true
  echo "openwatch: started; the first start creates the admin user: its password is in /var/lib/openwatch/initial-admin-password"
else
  echo "openwatch: installed; start it with: systemctl enable --now openwatch.service"
fi
