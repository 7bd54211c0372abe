"""AWS Lambda entry point of the prediction service (handler: ``serving.handler``).

Configuration comes from ``$HOOKLINE_CONFIG`` (a path or a storage URI), else the
``hookline.toml`` bundled next to this file; FastAPI and the model are loaded on the first
request, not at import.
"""

import os

from hookline.adapters.aws.serving import LambdaHandler

handler = LambdaHandler(bundle_dir=os.path.dirname(os.path.abspath(__file__)))

__all__ = ["handler"]
