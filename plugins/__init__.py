"""hookline's built-in plugins.

Each module here is an ordinary plugin, advertised as an entry point in the ``hookline``
group of our own ``pyproject.toml`` and loaded through the same loader as third-party
plugins. Import nothing heavy at module level: pandas and scikit-learn are imported inside
the hooks that need them.
"""
