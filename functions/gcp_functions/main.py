"""Google Cloud Run functions (functions-framework) entry points of hookline.

Each function is deployed with its own ``--entry-point`` (target); configuration comes from
``$HOOKLINE_CONFIG``.
"""

# ---- serving: the prediction service (HTTP) --------------------------------------------
# Target `serving`. Served by functions-framework's ASGI server (the aio decorator; `--asgi`
# works too); the hookline app answers the request itself. FastAPI and the model load on
# the first request, not at import.
from functions_framework import aio as _ff_aio


@_ff_aio.http
async def serving(request):
    import os

    from hookline.adapters.serving.gcp import forward

    return forward(bundle_dir=os.path.dirname(os.path.abspath(__file__)))


# ---- end serving --------------------------------------------------------------------------
