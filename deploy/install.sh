#!/usr/bin/env bash
# Offline installation on the intranet: no PyPI, no npm, no internet. Run from the unpacked bundle.
#   ./install.sh [PREFIX]            (default PREFIX: /opt/xinfang)
# Also upgrades: run the new bundle's install.sh over an existing PREFIX (the settings file is kept), then
# `xinfang db upgrade` and restart the services.
# Then: edit PREFIX/xinfang.env (database URL, personal-data key), and start the services (see README.md).
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
PREFIX=${1:-/opt/xinfang}
PYTHON=${PYTHON:-python3}
(cd "$HERE/wheels" && sha256sum -c --quiet ../SHA256SUMS)
"$PYTHON" -m venv "$PREFIX/venv"
"$PREFIX/venv/bin/python" -m pip install -q --upgrade --no-index --find-links "$HERE/wheels" xinfang
if [ ! -f "$PREFIX/xinfang.env" ]; then
  install -m 600 "$HERE/xinfang.env.example" "$PREFIX/xinfang.env"
  key=$("$PREFIX/venv/bin/python" -c "import secrets; print(secrets.token_urlsafe(32))")
  sed -i "s|^XINFANG_DATA_KEY=.*|XINFANG_DATA_KEY=$key|" "$PREFIX/xinfang.env"
  echo "已生成个人信息密钥并写入 $PREFIX/xinfang.env(请另行妥善备份该密钥,丢失后加密数据无法恢复)"
fi
if id -g xinfang >/dev/null 2>&1; then
  # The service account reads its settings (root keeps them: group read only, no one else).
  chgrp xinfang "$PREFIX/xinfang.env" && chmod 640 "$PREFIX/xinfang.env"
fi
echo "已安装到 $PREFIX。下一步:"
echo "  set -a; . $PREFIX/xinfang.env; set +a"
echo "  $PREFIX/venv/bin/xinfang db upgrade"
echo "  $PREFIX/venv/bin/xinfang user add admin --role admin --password-stdin"
echo "  systemctl enable --now xinfang-web xinfang-worker   (单元文件见 systemd/)"
