#!/usr/bin/env bash
# Reproduce the vendored front-end assets in src/xinfang/web/static/vendor/ from the npm registry.
# Run at development time only (the app never fetches anything at run time); commit the result.
#   bash scripts/vendor_assets.sh
set -euo pipefail
ECHARTS_VERSION=6.1.0   # Apache-2.0

ROOT="$(cd "$(dirname "$0")/.." && pwd)"
DEST="$ROOT/src/xinfang/web/static/vendor"
WORK="$(mktemp -d)"
trap 'rm -rf "$WORK"' EXIT

cd "$WORK"
npm pack --silent "echarts@${ECHARTS_VERSION}" >/dev/null
mkdir echarts && tar xzf "echarts-${ECHARTS_VERSION}.tgz" -C echarts --strip-components=1

mkdir -p "$DEST/echarts"
cp echarts/dist/echarts.min.js "$DEST/echarts/echarts.min.js"
cp echarts/LICENSE "$DEST/echarts/LICENSE"
cp echarts/NOTICE "$DEST/echarts/NOTICE"
cp echarts/licenses/LICENSE-d3 "$DEST/echarts/LICENSE-d3"
echo "echarts ${ECHARTS_VERSION} (Apache-2.0) from the npm registry" > "$DEST/echarts/VERSION"
sha256sum "$DEST/echarts/echarts.min.js"
