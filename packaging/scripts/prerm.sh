#!/bin/sh
# openwatch prerm. Debian: $1 is remove, upgrade or deconfigure; RPM: $1 is 0 (erase) or
# 1 (upgrade, when the new version is already installed: nothing to do here).
set -e

[ -d /run/systemd/system ] && command -v systemctl >/dev/null || exit 0
case "$1" in
  remove | deconfigure | 0)
    systemctl disable --now openwatch.service openwatch-worker.service >/dev/null 2>&1 || true
    ;;
  upgrade)
    systemctl stop openwatch.service openwatch-worker.service >/dev/null 2>&1 || true
    ;;
esac
