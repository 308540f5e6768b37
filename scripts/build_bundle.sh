#!/usr/bin/env bash
# Build the offline installation bundle on a connected machine: every wheel the product needs for the target Python
# and platform, the product wheel (with its model, data and vendored web assets), the installer and the deployment
# files, in one archive. Usage: scripts/build_bundle.sh [OUT_DIR]
#   PYTHON_VERSION (default: this Python, e.g. 3.11) and PLATFORM (default: this machine, e.g.
#   manylinux2014_x86_64) select the target, for servers that differ from the build machine.
set -euo pipefail
cd "$(dirname "$0")/.."
OUT=${1:-build}
VERSION=$(.venv/bin/python -c "import xinfang; print(xinfang.__version__)")
NAME="xinfang-${VERSION}-offline"
STAGE="$OUT/$NAME"
rm -rf "$STAGE" && mkdir -p "$STAGE/wheels"

.venv/bin/python -m pip wheel -q --no-deps -w "$STAGE/wheels" .
# Runtime dependencies only (not the dev extras), pinned by constraints.txt, as binary wheels.
TARGET=()
[ -n "${PYTHON_VERSION:-}" ] && TARGET+=(--python-version "$PYTHON_VERSION")
[ -n "${PLATFORM:-}" ] && TARGET+=(--platform "$PLATFORM")
.venv/bin/python -m pip download -q --only-binary=:all: "${TARGET[@]}" -c constraints.txt -d "$STAGE/wheels" \
    "$STAGE"/wheels/xinfang-*.whl

cp deploy/install.sh "$STAGE/install.sh" && chmod +x "$STAGE/install.sh"
cp deploy/xinfang.env.example deploy/README.md "$STAGE/"
cp -r deploy/systemd "$STAGE/systemd"
cp -r deploy/logrotate "$STAGE/logrotate"
(cd "$STAGE/wheels" && sha256sum ./*.whl > ../SHA256SUMS)
tar -C "$OUT" -czf "$OUT/$NAME.tar.gz" "$NAME"
echo "$OUT/$NAME.tar.gz"
