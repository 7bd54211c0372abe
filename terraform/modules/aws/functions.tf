# The two Lambda functions. Runtime, architecture, handler and code come from the bundle
# manifests (bundles.tf): pipeline.handler (storage, SQS, EventBridge and schedule events) and
# serving.handler (HTTP through mangum), as zips through S3 or as images by digest. An
# artifacts bucket without versioning has no object version: the function then runs the
# content-addressed key alone.

resource "aws_cloudwatch_log_group" "pipeline" {
  count = var.enable_pipeline ? 1 : 0
  #checkov:skip=CKV_AWS_338:Retention is the operator's choice (log_retention_days); run records in the bucket are the durable history.
  #checkov:skip=CKV_AWS_158:CloudWatch Logs encrypts at rest by default; set kms_key_arn for a customer-managed key.

  name              = "/aws/lambda/${local.names.pipeline_function}"
  retention_in_days = var.log_retention_days
  kms_key_id        = var.kms_key_arn
  tags              = var.tags
}

resource "aws_cloudwatch_log_group" "serving" {
  count = var.enable_serving ? 1 : 0
  #checkov:skip=CKV_AWS_338:Retention is the operator's choice (log_retention_days).
  #checkov:skip=CKV_AWS_158:CloudWatch Logs encrypts at rest by default; set kms_key_arn for a customer-managed key.

  name              = "/aws/lambda/${local.names.serving_function}"
  retention_in_days = var.log_retention_days
  kms_key_id        = var.kms_key_arn
  tags              = var.tags
}

resource "aws_lambda_function" "pipeline" {
  count = var.enable_pipeline ? 1 : 0
  #checkov:skip=CKV_AWS_116:Failed asynchronous events go to the on-failure destination (aws_lambda_function_event_invoke_config.pipeline), which also records the error; a DLQ would duplicate it.
  #checkov:skip=CKV_AWS_117:The function only talks to AWS APIs (S3, SQS, CloudWatch, Secrets Manager); a VPC adds NAT cost and cold-start latency without a private resource to reach.
  #checkov:skip=CKV_AWS_115:Concurrency is left unreserved by default (pipeline_reserved_concurrency); reserving it takes capacity from the account's shared pool.
  #checkov:skip=CKV_AWS_272:The deployed code is pinned by hash (source_code_hash from the bundle manifest, or an image digest); Lambda code signing needs a signing profile the organisation owns.
  #checkov:skip=CKV_AWS_173:Environment variables hold no secrets (storage URI, config URI, plugin names, the ARN of the signing key secret, never its value); set kms_key_arn for a customer-managed key.

  function_name                  = local.names.pipeline_function
  description                    = "hookline pipeline: ingest, train, validate, deploy, monitor on storage events"
  role                           = aws_iam_role.pipeline[0].arn
  package_type                   = local.bundle.pipeline.zip ? "Zip" : "Image"
  handler                        = local.bundle.pipeline.zip ? local.bundle.pipeline.handler : null
  runtime                        = local.bundle.pipeline.zip ? local.bundle.pipeline.runtime : null
  architectures                  = [local.bundle.pipeline.architecture]
  s3_bucket                      = local.bundle.pipeline.zip ? aws_s3_object.bundle["pipeline"].bucket : null
  s3_key                         = local.bundle.pipeline.zip ? aws_s3_object.bundle["pipeline"].key : null
  s3_object_version              = local.bundle.pipeline.zip ? try(coalesce(aws_s3_object.bundle["pipeline"].version_id), null) : null
  image_uri                      = local.bundle.pipeline.zip ? null : "${var.image_repository_url}@${local.bundle.pipeline.digest}"
  source_code_hash               = local.bundle.pipeline.zip ? local.bundle.pipeline.hash_base64 : null
  memory_size                    = var.pipeline_memory_mb
  timeout                        = var.pipeline_timeout_seconds
  reserved_concurrent_executions = var.pipeline_reserved_concurrency
  kms_key_arn                    = var.kms_key_arn

  ephemeral_storage {
    size = var.pipeline_ephemeral_storage_mb
  }

  dynamic "image_config" {
    for_each = local.bundle.pipeline.zip ? [] : [local.bundle.pipeline.handler]
    content {
      command = [image_config.value]
    }
  }

  environment {
    variables = local.function_environment.pipeline
  }

  # Without a configured level Lambda drops INFO lines: JSON lines, at the level asked for.
  logging_config {
    log_format            = "JSON"
    log_group             = aws_cloudwatch_log_group.pipeline[0].name
    application_log_level = var.log_level
    system_log_level      = var.system_log_level
  }

  tracing_config {
    mode = "Active"
  }

  tags = var.tags

  lifecycle {
    precondition {
      condition     = length(local.bundle_problems.pipeline) == 0
      error_message = "The pipeline bundle cannot be deployed:\n  - ${join("\n  - ", local.bundle_problems.pipeline)}"
    }
  }

  depends_on = [aws_cloudwatch_log_group.pipeline, aws_iam_role_policy.pipeline]
}

# Failure handling, set explicitly: S3, EventBridge and the scheduler invoke asynchronously.
# A transient failure raises and is retried; after the retries or the maximum age the event
# goes to the failure queue. Permanent failures (bad data) are recorded in a run record and
# return normally, so they are not retried.
resource "aws_lambda_function_event_invoke_config" "pipeline" {
  count = var.enable_pipeline ? 1 : 0

  function_name                = aws_lambda_function.pipeline[0].function_name
  maximum_retry_attempts       = var.max_retry_attempts
  maximum_event_age_in_seconds = var.max_event_age_seconds

  destination_config {
    on_failure {
      destination = aws_sqs_queue.failures[0].arn
    }
  }
}

resource "aws_lambda_function" "serving" {
  count = var.enable_serving ? 1 : 0
  #checkov:skip=CKV_AWS_116:Invoked synchronously through its Function URL; there are no asynchronous events to dead-letter.
  #checkov:skip=CKV_AWS_117:The function only talks to S3 and Secrets Manager; a VPC adds NAT cost and cold-start latency.
  #checkov:skip=CKV_AWS_115:Concurrency is left to the account's pool; throttle with the Function URL's caller IAM instead.
  #checkov:skip=CKV_AWS_272:The deployed code is pinned by hash (source_code_hash from the bundle manifest, or an image digest); Lambda code signing needs a signing profile the organisation owns.
  #checkov:skip=CKV_AWS_173:Environment variables hold no secrets, only Secrets Manager ARNs (API, admin and signing keys are read at run time); set kms_key_arn for a customer-managed key.

  function_name     = local.names.serving_function
  description       = "hookline serving: predictions from the registry's production model"
  role              = aws_iam_role.serving[0].arn
  package_type      = local.bundle.serving.zip ? "Zip" : "Image"
  handler           = local.bundle.serving.zip ? local.bundle.serving.handler : null
  runtime           = local.bundle.serving.zip ? local.bundle.serving.runtime : null
  architectures     = [local.bundle.serving.architecture]
  s3_bucket         = local.bundle.serving.zip ? aws_s3_object.bundle["serving"].bucket : null
  s3_key            = local.bundle.serving.zip ? aws_s3_object.bundle["serving"].key : null
  s3_object_version = local.bundle.serving.zip ? try(coalesce(aws_s3_object.bundle["serving"].version_id), null) : null
  image_uri         = local.bundle.serving.zip ? null : "${var.image_repository_url}@${local.bundle.serving.digest}"
  source_code_hash  = local.bundle.serving.zip ? local.bundle.serving.hash_base64 : null
  memory_size       = var.serving_memory_mb
  timeout           = var.serving_timeout_seconds
  kms_key_arn       = var.kms_key_arn

  dynamic "image_config" {
    for_each = local.bundle.serving.zip ? [] : [local.bundle.serving.handler]
    content {
      command = [image_config.value]
    }
  }

  environment {
    variables = local.function_environment.serving
  }

  logging_config {
    log_format            = "JSON"
    log_group             = aws_cloudwatch_log_group.serving[0].name
    application_log_level = var.log_level
    system_log_level      = var.system_log_level
  }

  tracing_config {
    mode = "Active"
  }

  tags = var.tags

  lifecycle {
    precondition {
      condition     = length(local.bundle_problems.serving) == 0
      error_message = "The serving bundle cannot be deployed:\n  - ${join("\n  - ", local.bundle_problems.serving)}"
    }
  }

  depends_on = [aws_cloudwatch_log_group.serving, aws_iam_role_policy.serving]
}

resource "aws_lambda_function_url" "serving" {
  count = var.enable_serving ? 1 : 0

  function_name      = aws_lambda_function.serving[0].function_name
  authorization_type = var.serving_auth_type

  dynamic "cors" {
    for_each = length(var.serving_cors_origins) > 0 ? [1] : []
    content {
      allow_origins = var.serving_cors_origins
      allow_methods = ["GET", "POST"]
      allow_headers = ["content-type", "x-api-key", "authorization"]
      max_age       = 3600
    }
  }
}

# A public URL (auth type NONE) needs a resource policy that lets anyone call the URL; requests
# are then checked against the API keys by the app itself. Function URLs created since October
# 2025 need both actions: lambda:InvokeFunctionUrl, and lambda:InvokeFunction restricted to
# calls that come through the URL (invoked_via_function_url).
resource "aws_lambda_permission" "serving_public_url" {
  count = var.enable_serving && var.serving_auth_type == "NONE" ? 1 : 0
  #checkov:skip=CKV_AWS_364:A public Function URL is an explicit opt-in (serving_auth_type = "NONE"); the app enforces API keys.

  statement_id           = "AllowPublicFunctionUrl"
  action                 = "lambda:InvokeFunctionUrl"
  function_name          = aws_lambda_function.serving[0].function_name
  principal              = "*"
  function_url_auth_type = "NONE"
}

resource "aws_lambda_permission" "serving_public_invoke" {
  count = var.enable_serving && var.serving_auth_type == "NONE" ? 1 : 0
  #checkov:skip=CKV_AWS_364:Only invocations through the public Function URL (invoked_via_function_url); the app enforces API keys.

  statement_id             = "AllowPublicFunctionUrlInvoke"
  action                   = "lambda:InvokeFunction"
  function_name            = aws_lambda_function.serving[0].function_name
  principal                = "*"
  invoked_via_function_url = true
}
