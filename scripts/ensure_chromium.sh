#!/usr/bin/env bash
# Make Debian's chromium (and a CJK font, so Chinese is not drawn as boxes) available to the browser tests.
# Idempotent; `make test` runs it. Installs with apt-get only where /usr/bin/chromium is missing and we are root;
# otherwise it says so and the browser tests skip with the same message. Playwright's own browser download is never
# used (`playwright install` fails offline): the tests drive /usr/bin/chromium.
set -euo pipefail

need=()
[ -x /usr/bin/chromium ] || need+=(chromium)
ls /usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc >/dev/null 2>&1 || need+=(fonts-noto-cjk)

if [ ${#need[@]} -eq 0 ]; then
  exit 0
fi
if [ "$(id -u)" != "0" ] || ! command -v apt-get >/dev/null 2>&1; then
  echo "ensure_chromium: missing ${need[*]} and not root (or no apt-get): browser tests will be skipped" >&2
  exit 0
fi
echo "ensure_chromium: installing ${need[*]}"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
