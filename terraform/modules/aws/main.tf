# hookline on AWS: S3 storage root, pipeline and serving Lambdas, storage trigger,
# failure queue, least-privilege roles. Names, prefixes and filters come from ../common.

module "common" {
  source = "../common"

  cloud          = "aws"
  name           = var.name
  bucket         = var.bucket_name
  storage_prefix = var.storage_prefix
  pipelines      = var.pipelines
  schedules      = var.schedules
  config_uri     = var.config_uri
  plugins        = var.plugins
}

data "aws_caller_identity" "current" {}
data "aws_partition" "current" {}

locals {
  account_id = data.aws_caller_identity.current.account_id
  partition  = data.aws_partition.current.partition
  bucket_arn = "arn:${local.partition}:s3:::${var.bucket_name}"
  names      = module.common.names
  triggers   = var.enable_pipeline ? module.common.triggers : {}
  schedules  = var.enable_pipeline ? module.common.schedule_payloads : {}

  api_keys_secret_arn = var.api_keys_secret_arn != null ? var.api_keys_secret_arn : (
    var.enable_serving ? aws_secretsmanager_secret.api_keys[0].arn : null
  )

  # Registry signing key (pipeline signs, serving verifies) and administration keys (serving):
  # an existing secret, one the module creates, or none. Presence is known at plan time.
  signing_key = var.signing_key_secret_arn != null || var.create_signing_key_secret
  admin_keys  = var.enable_serving && (var.admin_keys_secret_arn != null || var.create_admin_keys_secret)
  signing_key_secret_arn = var.signing_key_secret_arn != null ? var.signing_key_secret_arn : one(
    aws_secretsmanager_secret.signing_key[*].arn
  )
  admin_keys_secret_arn = var.admin_keys_secret_arn != null ? var.admin_keys_secret_arn : one(
    aws_secretsmanager_secret.admin_keys[*].arn
  )
  # Secret references per function (docs/security.md: <NAME>_SECRET holds the ARN).
  function_secrets = {
    pipeline = merge(
      local.signing_key ? { HOOKLINE_SIGNING_KEY_SECRET = local.signing_key_secret_arn } : {},
    )
    serving = merge(
      { HOOKLINE_API_KEYS_SECRET = local.api_keys_secret_arn },
      local.signing_key ? { HOOKLINE_SIGNING_KEY_SECRET = local.signing_key_secret_arn } : {},
      local.admin_keys ? { HOOKLINE_ADMIN_KEYS_SECRET = local.admin_keys_secret_arn } : {},
    )
  }
  function_environment = {
    pipeline = merge(module.common.environment, local.function_secrets.pipeline)
    serving  = merge(module.common.environment, local.function_secrets.serving)
  }
}

# --- the bucket (when the module creates it) ---------------------------------------------

resource "aws_s3_bucket" "this" {
  count = var.create_bucket ? 1 : 0
  #checkov:skip=CKV_AWS_18:Access logging needs a separate log bucket chosen by the operator; CloudTrail data events are the recommended audit trail.
  #checkov:skip=CKV_AWS_144:Cross-region replication is a disaster-recovery choice left to the operator; the bucket is versioned, so overwritten or deleted objects stay recoverable in the region.
  #checkov:skip=CKV_AWS_145:SSE-S3 by default; set kms_key_arn to use a customer-managed KMS key.
  #checkov:skip=CKV2_AWS_62:Event notifications are configured by aws_s3_bucket_notification.this in this module.

  bucket = var.bucket_name
  tags   = var.tags
}

resource "aws_s3_bucket_public_access_block" "this" {
  count = var.create_bucket ? 1 : 0

  bucket                  = aws_s3_bucket.this[0].id
  block_public_acls       = true
  block_public_policy     = true
  ignore_public_acls      = true
  restrict_public_buckets = true
}

resource "aws_s3_bucket_ownership_controls" "this" {
  count = var.create_bucket ? 1 : 0

  bucket = aws_s3_bucket.this[0].id
  rule {
    object_ownership = "BucketOwnerEnforced"
  }
}

resource "aws_s3_bucket_server_side_encryption_configuration" "this" {
  count = var.create_bucket ? 1 : 0

  bucket = aws_s3_bucket.this[0].id
  rule {
    apply_server_side_encryption_by_default {
      sse_algorithm     = var.kms_key_arn == null ? "AES256" : "aws:kms"
      kms_master_key_id = var.kms_key_arn
    }
    bucket_key_enabled = var.kms_key_arn != null
  }
}

# Versioning: run records name the exact object version that triggered them.
resource "aws_s3_bucket_versioning" "this" {
  count = var.create_bucket ? 1 : 0

  bucket = aws_s3_bucket.this[0].id
  versioning_configuration {
    status = "Enabled"
  }
}

resource "aws_s3_bucket_lifecycle_configuration" "this" {
  count = var.create_bucket ? 1 : 0

  bucket = aws_s3_bucket.this[0].id

  rule {
    id     = "hookline-housekeeping"
    status = "Enabled"
    filter {}

    abort_incomplete_multipart_upload {
      days_after_initiation = 7
    }
    noncurrent_version_expiration {
      noncurrent_days = var.noncurrent_version_expiration_days
    }
  }

  depends_on = [aws_s3_bucket_versioning.this]
}

data "aws_iam_policy_document" "bucket" {
  statement {
    sid       = "DenyInsecureTransport"
    effect    = "Deny"
    actions   = ["s3:*"]
    resources = [local.bucket_arn, "${local.bucket_arn}/*"]
    principals {
      type        = "*"
      identifiers = ["*"]
    }
    condition {
      test     = "Bool"
      variable = "aws:SecureTransport"
      values   = ["false"]
    }
  }
}

resource "aws_s3_bucket_policy" "this" {
  count = var.create_bucket ? 1 : 0

  bucket     = aws_s3_bucket.this[0].id
  policy     = data.aws_iam_policy_document.bucket.json
  depends_on = [aws_s3_bucket_public_access_block.this]
}

# --- where failed events go --------------------------------------------------------------

# On-failure destination of the pipeline's asynchronous invocations, dead-letter queue of the
# EventBridge rules and schedules: one queue to watch. Each message carries the original event
# and (from Lambda) the error of the last attempt.
resource "aws_sqs_queue" "failures" {
  count = var.enable_pipeline ? 1 : 0

  name                      = local.names.failure_queue
  message_retention_seconds = var.failure_retention_seconds
  sqs_managed_sse_enabled   = var.kms_key_arn == null ? true : null
  kms_master_key_id         = var.kms_key_arn
  tags                      = var.tags
}

data "aws_iam_policy_document" "failures_queue" {
  count = var.enable_pipeline && var.trigger_mode == "eventbridge" ? 1 : 0

  statement {
    sid       = "EventBridgeRulesDeadLetter"
    actions   = ["sqs:SendMessage"]
    resources = [aws_sqs_queue.failures[0].arn]
    principals {
      type        = "Service"
      identifiers = ["events.amazonaws.com"]
    }
    condition {
      test     = "ArnEquals"
      variable = "aws:SourceArn"
      values   = [for r in aws_cloudwatch_event_rule.upload : r.arn]
    }
  }
}

resource "aws_sqs_queue_policy" "failures" {
  count = var.enable_pipeline && var.trigger_mode == "eventbridge" ? 1 : 0

  queue_url = aws_sqs_queue.failures[0].id
  policy    = data.aws_iam_policy_document.failures_queue[0].json
}

resource "aws_cloudwatch_metric_alarm" "failures" {
  count = var.enable_pipeline ? 1 : 0

  alarm_name          = "${local.names.failure_queue}-not-empty"
  alarm_description   = "A hookline event failed after all retries; inspect the messages in ${local.names.failure_queue}."
  namespace           = "AWS/SQS"
  metric_name         = "ApproximateNumberOfMessagesVisible"
  dimensions          = { QueueName = aws_sqs_queue.failures[0].name }
  statistic           = "Maximum"
  period              = 300
  evaluation_periods  = 1
  comparison_operator = "GreaterThanThreshold"
  threshold           = 0
  treat_missing_data  = "notBreaching"
  alarm_actions       = var.alarm_actions
  ok_actions          = var.alarm_actions
  tags                = var.tags
}

# --- secrets (their values are never in Terraform) ----------------------------------------

resource "aws_secretsmanager_secret" "api_keys" {
  count = var.enable_serving && var.api_keys_secret_arn == null ? 1 : 0
  #checkov:skip=CKV2_AWS_57:API keys are issued to clients by the operator; rotation is a manual, coordinated change, not a Lambda rotation.
  #checkov:skip=CKV_AWS_149:AWS-managed key by default; set kms_key_arn to use a customer-managed KMS key.

  name                    = "${var.name}/serving-api-keys"
  description             = "hookline serving API keys (JSON list or comma-separated). Set the value with `aws secretsmanager put-secret-value`."
  kms_key_id              = var.kms_key_arn
  recovery_window_in_days = 7
  tags                    = var.tags
}

resource "aws_secretsmanager_secret" "signing_key" {
  count = var.signing_key_secret_arn == null && var.create_signing_key_secret ? 1 : 0
  #checkov:skip=CKV2_AWS_57:Rotating the signing key needs every registered version re-signed; a Lambda rotation cannot do that.
  #checkov:skip=CKV_AWS_149:AWS-managed key by default; set kms_key_arn to use a customer-managed KMS key.

  name                    = "${var.name}/registry-signing-key"
  description             = "hookline registry signing key (HMAC-SHA256 of version manifests). Set the value with `aws secretsmanager put-secret-value`."
  kms_key_id              = var.kms_key_arn
  recovery_window_in_days = 7
  tags                    = var.tags
}

resource "aws_secretsmanager_secret" "admin_keys" {
  count = var.enable_serving && var.admin_keys_secret_arn == null && var.create_admin_keys_secret ? 1 : 0
  #checkov:skip=CKV2_AWS_57:Administration keys are issued to operators by hand; rotation is a coordinated change, not a Lambda rotation.
  #checkov:skip=CKV_AWS_149:AWS-managed key by default; set kms_key_arn to use a customer-managed KMS key.

  name                    = "${var.name}/admin-keys"
  description             = "hookline administration keys (promote, rollback; comma-separated). Set the value with `aws secretsmanager put-secret-value`."
  kms_key_id              = var.kms_key_arn
  recovery_window_in_days = 7
  tags                    = var.tags
}
