# Least-privilege roles. Object reads and writes are confined to prefixes of the storage root:
#   pipeline: read the trigger prefixes, landing/predictions/ and its own outputs;
#             write and delete only runs/, registry/, monitoring/.
#   serving:  read registry/; write landing/predictions/.
# s3:ListBucket is granted on the bucket without a prefix condition: S3 answers a missing key with
# 404 only to callers allowed to list, and hookline's create-only writes and registry reads rely
# on telling "absent" from "forbidden". It reveals key names, never contents.

locals {
  read_objects      = [for p in module.common.pipeline_read_prefixes : "${local.bucket_arn}/${p}*"]
  write_objects     = [for p in module.common.pipeline_write_prefixes : "${local.bucket_arn}/${p}*"]
  registry_objects  = [for p in module.common.serving_read_prefixes : "${local.bucket_arn}/${p}*"]
  prediction_object = [for p in module.common.serving_write_prefixes : "${local.bucket_arn}/${p}*"]
  landing_objects   = [for p in distinct([for t in module.common.triggers : t.prefix]) : "${local.bucket_arn}/${p}*"]
  log_group_arns = {
    pipeline = "arn:${local.partition}:logs:*:${local.account_id}:log-group:/aws/lambda/${local.names.pipeline_function}:*"
    serving  = "arn:${local.partition}:logs:*:${local.account_id}:log-group:/aws/lambda/${local.names.serving_function}:*"
  }
}

data "aws_iam_policy_document" "lambda_assume" {
  statement {
    actions = ["sts:AssumeRole"]
    principals {
      type        = "Service"
      identifiers = ["lambda.amazonaws.com"]
    }
    condition {
      test     = "StringEquals"
      variable = "aws:SourceAccount"
      values   = [local.account_id]
    }
  }
}

# --- pipeline ----------------------------------------------------------------------------

# Statements both functions need, included in each role's policy below.
data "aws_iam_policy_document" "lambda_common" {
  # X-Ray has no resource-level permissions: these two actions only accept "*".
  statement {
    sid       = "Tracing"
    actions   = ["xray:PutTraceSegments", "xray:PutTelemetryRecords"]
    resources = ["*"]
  }

  dynamic "statement" {
    for_each = var.kms_key_arn == null ? [] : [var.kms_key_arn]
    content {
      sid       = "UseStorageKey"
      actions   = ["kms:Decrypt", "kms:GenerateDataKey"]
      resources = [statement.value]
    }
  }
}

data "aws_iam_policy_document" "pipeline" {
  source_policy_documents = [data.aws_iam_policy_document.lambda_common.json]

  statement {
    sid       = "Logs"
    actions   = ["logs:CreateLogStream", "logs:PutLogEvents"]
    resources = [local.log_group_arns.pipeline]
  }

  statement {
    sid       = "ReadInputsAndOwnOutputs"
    actions   = ["s3:GetObject", "s3:GetObjectVersion"]
    resources = local.read_objects
  }

  statement {
    sid       = "WriteOnlyFrameworkPrefixes"
    actions   = ["s3:PutObject", "s3:DeleteObject", "s3:AbortMultipartUpload"]
    resources = local.write_objects
  }

  statement {
    sid       = "ListKeyNames"
    actions   = ["s3:ListBucket", "s3:ListBucketVersions"]
    resources = [local.bucket_arn]
  }

  dynamic "statement" {
    for_each = aws_sqs_queue.failures
    content {
      sid       = "OnFailureDestination"
      actions   = ["sqs:SendMessage"]
      resources = [statement.value.arn]
    }
  }

  dynamic "statement" {
    for_each = local.signing_key ? [local.signing_key_secret_arn] : []
    content {
      sid       = "ReadSigningKey"
      actions   = ["secretsmanager:GetSecretValue"]
      resources = [statement.value]
    }
  }
}

resource "aws_iam_role" "pipeline" {
  count = var.enable_pipeline ? 1 : 0

  name               = local.names.pipeline_function
  assume_role_policy = data.aws_iam_policy_document.lambda_assume.json
  tags               = var.tags
}

resource "aws_iam_role_policy" "pipeline" {
  count = var.enable_pipeline ? 1 : 0

  name   = "hookline-pipeline"
  role   = aws_iam_role.pipeline[0].id
  policy = data.aws_iam_policy_document.pipeline.json
}

# --- serving -----------------------------------------------------------------------------

data "aws_iam_policy_document" "serving" {
  source_policy_documents = [data.aws_iam_policy_document.lambda_common.json]

  statement {
    sid       = "Logs"
    actions   = ["logs:CreateLogStream", "logs:PutLogEvents"]
    resources = [local.log_group_arns.serving]
  }

  statement {
    sid       = "ReadRegistry"
    actions   = ["s3:GetObject", "s3:GetObjectVersion"]
    resources = local.registry_objects
  }

  statement {
    sid       = "WritePredictionLogs"
    actions   = ["s3:PutObject"]
    resources = local.prediction_object
  }

  statement {
    sid       = "ListKeyNames"
    actions   = ["s3:ListBucket"]
    resources = [local.bucket_arn]
  }

  dynamic "statement" {
    for_each = var.enable_serving ? [local.api_keys_secret_arn] : []
    content {
      sid       = "ReadApiKeys"
      actions   = ["secretsmanager:GetSecretValue"]
      resources = [statement.value]
    }
  }

  dynamic "statement" {
    for_each = local.signing_key ? [local.signing_key_secret_arn] : []
    content {
      sid       = "ReadSigningKey"
      actions   = ["secretsmanager:GetSecretValue"]
      resources = [statement.value]
    }
  }

  dynamic "statement" {
    for_each = local.admin_keys ? [local.admin_keys_secret_arn] : []
    content {
      sid       = "ReadAdminKeys"
      actions   = ["secretsmanager:GetSecretValue"]
      resources = [statement.value]
    }
  }
}

resource "aws_iam_role" "serving" {
  count = var.enable_serving ? 1 : 0

  name               = local.names.serving_function
  assume_role_policy = data.aws_iam_policy_document.lambda_assume.json
  tags               = var.tags
}

resource "aws_iam_role_policy" "serving" {
  count = var.enable_serving ? 1 : 0

  name   = "hookline-serving"
  role   = aws_iam_role.serving[0].id
  policy = data.aws_iam_policy_document.serving.json
}

# --- EventBridge Scheduler ---------------------------------------------------------------

data "aws_iam_policy_document" "scheduler_assume" {
  statement {
    actions = ["sts:AssumeRole"]
    principals {
      type        = "Service"
      identifiers = ["scheduler.amazonaws.com"]
    }
    condition {
      test     = "StringEquals"
      variable = "aws:SourceAccount"
      values   = [local.account_id]
    }
  }
}

data "aws_iam_policy_document" "scheduler" {
  count = length(local.schedules) > 0 ? 1 : 0

  statement {
    sid       = "InvokePipeline"
    actions   = ["lambda:InvokeFunction"]
    resources = [aws_lambda_function.pipeline[0].arn, "${aws_lambda_function.pipeline[0].arn}:*"]
  }

  statement {
    sid       = "DeadLetter"
    actions   = ["sqs:SendMessage"]
    resources = [aws_sqs_queue.failures[0].arn]
  }
}

resource "aws_iam_role" "scheduler" {
  count = length(local.schedules) > 0 ? 1 : 0

  name               = "${var.name}-scheduler"
  assume_role_policy = data.aws_iam_policy_document.scheduler_assume.json
  tags               = var.tags
}

resource "aws_iam_role_policy" "scheduler" {
  count = length(local.schedules) > 0 ? 1 : 0

  name   = "hookline-scheduler"
  role   = aws_iam_role.scheduler[0].id
  policy = data.aws_iam_policy_document.scheduler[0].json
}

# --- policies for principals outside this module -----------------------------------------

# For a machine that runs the pipeline outside AWS (hybrid: `hookline run` / `hookline watch`
# on your own hardware): upload to the trigger prefixes, and what the pipeline function may do.
data "aws_iam_policy_document" "trainer" {
  statement {
    sid       = "UploadAndReadInputs"
    actions   = ["s3:GetObject", "s3:GetObjectVersion", "s3:PutObject"]
    resources = length(local.landing_objects) > 0 ? local.landing_objects : local.read_objects
  }

  statement {
    sid       = "ReadInputsAndOwnOutputs"
    actions   = ["s3:GetObject", "s3:GetObjectVersion"]
    resources = local.read_objects
  }

  statement {
    sid       = "WriteOnlyFrameworkPrefixes"
    actions   = ["s3:PutObject", "s3:DeleteObject", "s3:AbortMultipartUpload"]
    resources = local.write_objects
  }

  statement {
    sid       = "ListKeyNames"
    actions   = ["s3:ListBucket", "s3:ListBucketVersions"]
    resources = [local.bucket_arn]
  }

  dynamic "statement" {
    for_each = var.kms_key_arn == null ? [] : [var.kms_key_arn]
    content {
      sid       = "UseStorageKey"
      actions   = ["kms:Decrypt", "kms:GenerateDataKey"]
      resources = [statement.value]
    }
  }
}

# For callers of an AWS_IAM-authenticated serving URL. Function URLs created since October 2025
# authorise both actions: lambda:InvokeFunctionUrl (for the URL) and lambda:InvokeFunction.
data "aws_iam_policy_document" "serving_invoke" {
  count = var.enable_serving ? 1 : 0

  statement {
    sid       = "InvokeServingUrl"
    actions   = ["lambda:InvokeFunctionUrl"]
    resources = [aws_lambda_function.serving[0].arn]
    condition {
      test     = "StringEquals"
      variable = "lambda:FunctionUrlAuthType"
      values   = ["AWS_IAM"]
    }
  }

  statement {
    sid       = "InvokeServingFunction"
    actions   = ["lambda:InvokeFunction"]
    resources = [aws_lambda_function.serving[0].arn]
  }
}
