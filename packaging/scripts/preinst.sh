#!/bin/sh
# openwatch preinst. Debian: $1 is install or upgrade; RPM: $1 is 1 (install) or 2 (upgrade).
set -e

case "$1" in
  install | 1) action=install ;;
  upgrade | [2-9]*) action=upgrade ;;
  *) exit 0 ;;
esac

# The system user and group the server runs as.
if ! getent group openwatch >/dev/null; then
  groupadd --system openwatch
fi
if ! getent passwd openwatch >/dev/null; then
  nologin=/usr/sbin/nologin
  [ -x "$nologin" ] || nologin=/sbin/nologin
  useradd --system --gid openwatch --home-dir /var/lib/openwatch --no-create-home \
    --shell "$nologin" --comment "OpenWatch server" openwatch
fi

[ "$action" = upgrade ] || exit 0

# The optional backup before an upgrade, made with the version still installed.
BACKUP_BEFORE_UPGRADE=no
if [ -r /etc/default/openwatch ]; then
  # shellcheck source=/dev/null
  . /etc/default/openwatch
fi
case "$BACKUP_BEFORE_UPGRADE" in
  yes | true | 1) ;;
  *) exit 0 ;;
esac
if [ ! -x /usr/bin/openwatch ] || ! /usr/bin/openwatch backup --help >/dev/null 2>&1; then
  echo "openwatch: the installed version has no backup command: upgrading without a pre-upgrade backup"
  exit 0
fi
install -d -m 0750 -o openwatch -g openwatch /var/lib/openwatch/backups
echo "openwatch: backing up before the upgrade into /var/lib/openwatch/backups/"
if ! runuser -u openwatch -- /usr/bin/openwatch backup --output /var/lib/openwatch/backups/; then
  echo "openwatch: the pre-upgrade backup failed, so the upgrade stops here; fix the cause or set BACKUP_BEFORE_UPGRADE=no in /etc/default/openwatch" >&2
  exit 1
fi
