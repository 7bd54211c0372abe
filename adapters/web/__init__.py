"""What hookline's two HTTP surfaces -- the prediction service and the dashboard -- share.

* :mod:`.keys`: the one API-key loader (prediction keys and administration keys, from a
  variable or a secret reference) and the constant-time check;
* :mod:`.errors`: the one way an exception becomes an HTTP answer (through
  :func:`hookline.errors.answer`), request ids, and the names a path segment may hold.

Importing this package imports nothing heavy; :mod:`.errors` imports Starlette.
"""
