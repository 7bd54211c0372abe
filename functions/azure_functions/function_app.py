"""Azure Functions entry point of hookline (Python v2 programming model).

One function app per role, chosen by the app setting ``HOOKLINE_ROLE``:
``serving`` (the prediction service) or ``pipeline`` (the storage-triggered lifecycle).
Configuration comes from ``$HOOKLINE_CONFIG``.
"""

import os

import azure.functions as func

role = os.environ.get("HOOKLINE_ROLE", "pipeline")

if role == "serving":
    # FastAPI is imported here; the model loads on the first request.
    from hookline.adapters.serving.azure import function_app

    app = function_app(bundle_dir=os.path.dirname(os.path.abspath(__file__)))
else:
    # The pipeline role (blob / Event Grid triggers) is registered here.
    app = func.FunctionApp()
