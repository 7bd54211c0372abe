import pluggy

PROJECT = "hookline"

hookspec = pluggy.HookspecMarker(PROJECT)
"""Marks a function in :mod:`hookline.hookspecs` as a hook specification."""

hookimpl = pluggy.HookimplMarker(PROJECT)
"""Marks a plugin's function as the implementation of the hook of the same name."""
