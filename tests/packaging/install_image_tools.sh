#!/usr/bin/env bash
# Debian's skopeo and umoci for the container image tests (idempotent).
# Usage: bash tests/packaging/install_image_tools.sh   (root, or sudo available)
set -euo pipefail

if command -v skopeo >/dev/null && command -v umoci >/dev/null; then
    echo "skopeo and umoci already installed: $(skopeo --version 2>/dev/null || true), $(umoci --version 2>/dev/null || true)"
    exit 0
fi
SUDO=""
if [[ "$(id -u)" != "0" ]]; then
    command -v sudo >/dev/null || { echo "need root (or sudo) to apt-get install skopeo umoci" >&2; exit 1; }
    SUDO="sudo"
fi
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends skopeo umoci
skopeo --version
umoci --version
