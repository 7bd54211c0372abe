"""Shared fixtures. Emulator fixtures live in tests/emulators/fixtures.py."""

from __future__ import annotations
