"""Azure Functions entry point of hookline (Python v2 programming model).

One function app per role, chosen by the app setting ``HOOKLINE_ROLE``:
``serving`` (the prediction service) or ``pipeline`` (the storage-triggered lifecycle).
Configuration comes from ``$HOOKLINE_CONFIG``, else the ``hookline.toml`` next to this file.
"""

import os

import azure.functions as func

role = os.environ.get("HOOKLINE_ROLE", "pipeline")

if role == "serving":
    # FastAPI is imported here; the model loads on the first request.
    from hookline.adapters.azure.serving import function_app

    app = function_app(bundle_dir=os.path.dirname(os.path.abspath(__file__)))
else:
    # The pipeline role: pipeline_queue (Event Grid -> Storage Queue, when the HOOKLINE_QUEUE
    # connection is set), pipeline_event_grid (Event Grid push), pipeline_timer (when
    # HOOKLINE_SCHEDULE is set) and, when HOOKLINE_BLOB_TRIGGER_PATH is set, pipeline_blob.
    # The runtime is built on the first event from $HOOKLINE_CONFIG or the hookline.toml next
    # to this file, and reused while the instance is warm.
    from hookline.adapters.azure.compute import register_reconciler
    from hookline.adapters.azure.pipeline import register_pipeline
    from hookline.adapters.cloud import PipelineRuntime

    app = func.FunctionApp()
    runtime = PipelineRuntime(os.path.dirname(os.path.abspath(__file__)))
    register_pipeline(app, runtime)
    register_reconciler(app, runtime)  # run offload: when HOOKLINE_RECONCILE_SCHEDULE is set
