#!/usr/bin/env bash
# The dashboard's browser test (DashboardBrowserIT) drives Debian's Chromium through its
# chromedriver. A fresh machine has neither: install them (as root, from Debian's packages) when
# missing. Run by .ci/run (as root) before the build; the build itself never installs anything,
# and harmless to run again.
set -euo pipefail
if command -v chromium >/dev/null && command -v chromedriver >/dev/null; then
  exit 0
fi
if [ "$(id -u)" != 0 ] || ! command -v apt-get >/dev/null; then
  echo "ensure-chromium: Chromium and chromedriver are missing; install Debian's chromium and" \
    "chromium-driver (apt-get install chromium chromium-driver) and run again" >&2
  exit 1
fi
echo "ensure-chromium: installing chromium and chromium-driver for the browser test"
apt-get update -qq
DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium chromium-driver >/dev/null
