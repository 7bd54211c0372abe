#!/usr/bin/env bash
# Create (once) the virtualenv that holds checkov, apart from the project's .venv:
# checkov pins an older boto3 than the project uses, so the two must not share an environment.
#
# Usage: bash tests/terraform/setup_checkov.sh        (idempotent; fast when already installed)
# Env:   CHECKOV_VENV  target folder (default: <repo>/.cache/checkov-venv)
#        CHECKOV_VERSION  pip requirement for checkov (default: the pinned version below)
set -euo pipefail

repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
venv="${CHECKOV_VENV:-$repo/.cache/checkov-venv}"
spec="${CHECKOV_VERSION:-checkov==3.3.30}"
stamp="$venv/.hookline-installed"

if [[ -x "$venv/bin/checkov" && -f "$stamp" && "$(cat "$stamp")" == "$spec" ]]; then
    exit 0
fi

python="${PYTHON:-python3}"
"$python" -m venv "$venv"
"$venv/bin/python" -m pip install --quiet --disable-pip-version-check "$spec"
"$venv/bin/checkov" --version >/dev/null
printf '%s' "$spec" >"$stamp"
echo "checkov installed in $venv ($spec)"
