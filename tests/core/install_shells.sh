#!/usr/bin/env bash
# Debian's zsh for the shell-completion tests (bash is always there; idempotent).
# Usage: bash tests/core/install_shells.sh   (root, or sudo available)
set -euo pipefail

if command -v zsh >/dev/null; then
    echo "zsh already installed: $(zsh --version)"
    exit 0
fi
SUDO=""
if [[ "$(id -u)" != "0" ]]; then
    command -v sudo >/dev/null || { echo "need root (or sudo) to apt-get install zsh" >&2; exit 1; }
    SUDO="sudo"
fi
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends zsh
zsh --version
