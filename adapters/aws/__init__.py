"""hookline on AWS: S3 storage, Lambda payloads, the Lambda handlers, Secrets Manager.

============  ===================================================================
``events``    S3 / EventBridge / SQS / SNS / schedule payloads -> events (no SDK)
``pipeline``  the pipeline function's handler (``functions/aws_lambda/pipeline.py``)
``serving``   the prediction service behind mangum (``functions/aws_lambda/serving.py``)
``storage``   ``s3://`` storage (boto3, imported when a client is first needed)
``secrets``   Secrets Manager references (boto3, imported when one is read)
============  ===================================================================

:data:`CLOUD` describes all of it to the rest of hookline (entry point ``hookline.clouds``).
Importing this package imports no AWS SDK.
"""

from __future__ import annotations

import os
from typing import Any

from hookline.adapters.aws._samples import KINDS
from hookline.adapters.cloud import Cloud, Item, Packaging, Role, configure_logging

__all__ = ["AWS", "CLOUD"]


class AWS(Cloud):
    name = "aws"
    title = "AWS"
    package = "hookline.adapters.aws"
    scheme = "s3"
    extra = "aws"
    kinds = KINDS
    secret_sdk = "boto3"
    secret_forms = ("arn:aws:secretsmanager:REGION:ACCOUNT:secret:NAME", "aws-sm://NAME")
    packaging = Packaging(
        functions="aws_lambda",
        roles=(
            Role("pipeline", ("pipeline.py",), "pipeline.handler"),
            Role("serving", ("serving.py",), "serving.handler", requirements=("mangum",)),
        ),
        site_dir="",
        prepend_dir="/var/task",
        extras=(),  # the Lambda runtime ships boto3
        runtime="python{python}",
        pythons=("3.11", "3.12", "3.13"),
        architectures=("x86_64", "arm64"),
        glibc={"3.11": 26, "*": 34},  # Amazon Linux 2, then Amazon Linux 2023
    )

    def infer(self, payload: Any) -> bool:
        from hookline.adapters.aws.events import classify

        return classify(payload) not in ("unknown", "http")

    def items(self, payload: Any) -> list[Item]:
        from hookline.adapters.aws.events import classify, sqs_messages

        if classify(payload) == "sqs":
            return sqs_messages(payload)
        return super().items(payload)

    def batch_answer(self, payload: Any, failed: set[str]) -> Any:
        from hookline.adapters.aws.events import classify
        from hookline.adapters.aws.pipeline import partial_batch_response

        if classify(payload) != "sqs":
            return None
        return partial_batch_response(payload, failed)

    def configure_logging(self) -> bool:
        """On Lambda: the runtime's own JSON lines when ``logging_config`` sets
        ``log_format = "JSON"`` (the Terraform module does), else hookline's; INFO is kept
        unless ``application_log_level`` (``AWS_LAMBDA_LOG_LEVEL``) says otherwise."""
        return configure_logging(
            on_platform=bool(os.environ.get("AWS_LAMBDA_FUNCTION_NAME")),
            keep_platform_format=os.environ.get("AWS_LAMBDA_LOG_FORMAT", "").upper() == "JSON",
            platform_level=os.environ.get("AWS_LAMBDA_LOG_LEVEL") or None,
        )


CLOUD = AWS()
