"""AWS Lambda entry point of the hookline pipeline (handler: ``pipeline.handler``).

S3 notifications, SQS batches (partial batch responses), SNS, EventBridge and schedule
events. The runtime is built on the first event from ``$HOOKLINE_CONFIG`` or the
``hookline.toml`` bundled next to this file, and reused while the instance is warm.
"""

import os

from hookline.adapters.aws.pipeline import PipelineHandler

handler = PipelineHandler(bundle_dir=os.path.dirname(os.path.abspath(__file__)))

__all__ = ["handler"]
