#!/usr/bin/env bash
# Regenerate the single initial migration from the models. Only while nothing has been deployed: once a release is
# out, every schema change gets its own new revision instead (alembic revision --autogenerate).
set -euo pipefail
cd "$(dirname "$0")/.."
V=src/xinfang/store/migrations/versions
rm -f "$V"/0001_*.py /tmp/xf_mig_regen.db
.venv/bin/python -c "from alembic import command; from xinfang.store.migrate import alembic_config; command.revision(alembic_config('sqlite:////tmp/xf_mig_regen.db'), message='foundation', autogenerate=True, rev_id='0001')" >/dev/null
f=$(ls "$V"/0001_*.py)
[ "$f" = "$V/0001_foundation.py" ] || mv "$f" "$V/0001_foundation.py"
f="$V/0001_foundation.py"
# The migration must not depend on application types: store aware datetimes as plain DateTime(timezone=True).
sed -i 's/xinfang.store.base.UTCDateTime(timezone=True)/sa.DateTime(timezone=True)/; s/astext_type=Text()/astext_type=sa.Text()/; /^import xinfang.store.base$/d' "$f"
sed -i '1s/.*/"""foundation: the initial schema (organisation, users, petitions and their procedure, security, dispatch)/' "$f"
sed -i 's/[[:space:]]*$//' "$f"
rm -f /tmp/xf_mig_regen.db
.venv/bin/ruff check --fix --select I -q "$f" || true
.venv/bin/ruff format "$f" >/dev/null
echo "regenerated $f"
