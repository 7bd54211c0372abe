"""The dashboard's routes, one module per page family: :mod:`.session` (log in and out),
:mod:`.runs`, :mod:`.models` (pages and the alias actions), :mod:`.monitoring`."""
