"""Google Cloud Run functions (functions-framework) entry points of hookline.

Each function is deployed with its own ``--entry-point`` (target); configuration comes from
``$HOOKLINE_CONFIG``, else the ``hookline.toml`` next to this file.
"""

import os as _os

import functions_framework as _ff
from functions_framework import aio as _ff_aio
from hookline.adapters.gcp.pipeline import CloudEventPipeline as _CloudEventPipeline

# ---- serving: the prediction service (HTTP) --------------------------------------------
# Target `serving`. Served by functions-framework's ASGI server (the aio decorator; `--asgi`
# works too); the hookline app answers the request itself. FastAPI and the model load on
# the first request, not at import.


@_ff_aio.http
async def serving(request):
    import os

    from hookline.adapters.gcp.serving import forward

    return forward(bundle_dir=os.path.dirname(os.path.abspath(__file__)))


# ---- end serving --------------------------------------------------------------------------


# ---- pipeline: storage and schedule events (CloudEvents) --------------------------------
# Target `pipeline`. Eventarc delivers google.cloud.storage.object.v1.finalized; Cloud
# Scheduler posts hookline.schedule. The runtime is built on the first event and reused
# while the instance is warm. A hookline error is answered with its status (a transient
# failure 503, so the trigger's retry policy delivers the event again; a request that is
# not an event 400); only a bug is a 500.
_pipeline = _CloudEventPipeline(bundle_dir=_os.path.dirname(_os.path.abspath(__file__)))


@_ff.cloud_event
def pipeline(cloud_event):
    _pipeline.respond(cloud_event)


# ---- end pipeline -------------------------------------------------------------------------
