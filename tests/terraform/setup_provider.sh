#!/usr/bin/env bash
# Create (once) the virtualenv that runs the schema-only provider (tests/terraform/providers/
# schema_provider.py) for `terraform validate` and mocked `terraform test`, apart from the
# project's .venv: the `tf` package pins protobuf < 6, the project's cloud SDKs want newer.
#
# Usage: bash tests/terraform/setup_provider.sh      (idempotent; fast when already installed)
# Env:   TF_PROVIDER_VENV  target folder (default: <repo>/.cache/tf-provider-venv)
set -euo pipefail

repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
venv="${TF_PROVIDER_VENV:-$repo/.cache/tf-provider-venv}"
spec="tf==1.2.0"
stamp="$venv/.hookline-installed"

if [[ -x "$venv/bin/python" && -f "$stamp" && "$(cat "$stamp")" == "$spec" ]]; then
    exit 0
fi

python="${PYTHON:-python3}"
"$python" -m venv "$venv"
"$venv/bin/python" -m pip install --quiet --disable-pip-version-check "$spec"
"$venv/bin/python" -c "import tf.runner, tf.gen.tfplugin_pb2"
printf '%s' "$spec" >"$stamp"
echo "schema-only provider environment in $venv ($spec)"
