# How uploads reach the pipeline function.
#
# trigger_mode = "s3": one aws_s3_bucket_notification with a Lambda filter per pipeline.
#   S3 must be allowed to invoke the function BEFORE the notification is written (S3 checks
#   the permission when the configuration is saved), hence depends_on.
#   NOTE: a bucket holds ONE notification configuration. This resource replaces whatever
#   notification configuration the bucket had; two stacks writing it overwrite each other.
# trigger_mode = "eventbridge": S3 sends every event to EventBridge and one rule per pipeline
#   matches prefix and suffix. Use it when several deployments or other consumers share the
#   bucket: they each add rules instead of fighting over the notification configuration.

locals {
  s3_mode          = var.enable_pipeline && var.trigger_mode == "s3"
  eventbridge_mode = var.enable_pipeline && var.trigger_mode == "eventbridge"
  rule_names       = { for k, t in local.triggers : k => substr("${var.name}-${replace(k, "_", "-")}", 0, 64) }
}

resource "aws_lambda_permission" "s3" {
  count = local.s3_mode ? 1 : 0

  statement_id   = "AllowS3Invoke"
  action         = "lambda:InvokeFunction"
  function_name  = aws_lambda_function.pipeline[0].function_name
  principal      = "s3.amazonaws.com"
  source_arn     = local.bucket_arn
  source_account = local.account_id
}

resource "aws_s3_bucket_notification" "this" {
  count = var.enable_pipeline && var.manage_bucket_notification ? 1 : 0

  bucket      = var.create_bucket ? aws_s3_bucket.this[0].id : var.bucket_name
  eventbridge = local.eventbridge_mode

  dynamic "lambda_function" {
    for_each = local.s3_mode ? local.triggers : {}
    content {
      id                  = "hookline-${lambda_function.key}"
      lambda_function_arn = aws_lambda_function.pipeline[0].arn
      # Every ObjectCreated variant counts: large uploads arrive as CompleteMultipartUpload.
      events        = ["s3:ObjectCreated:*"]
      filter_prefix = lambda_function.value.prefix
      filter_suffix = lambda_function.value.suffix == "" ? null : lambda_function.value.suffix
    }
  }

  depends_on = [aws_lambda_permission.s3]
}

resource "aws_cloudwatch_event_rule" "upload" {
  for_each = local.eventbridge_mode ? local.triggers : {}

  name          = local.rule_names[each.key]
  description   = "hookline: uploads to s3://${var.bucket_name}/${each.value.prefix}*${each.value.suffix} run pipeline ${each.value.pipeline}"
  event_pattern = module.common.eventbridge_patterns[each.key]
  tags          = var.tags
}

resource "aws_lambda_permission" "eventbridge" {
  for_each = local.eventbridge_mode ? local.triggers : {}

  statement_id  = "AllowEventBridge-${each.key}"
  action        = "lambda:InvokeFunction"
  function_name = aws_lambda_function.pipeline[0].function_name
  principal     = "events.amazonaws.com"
  source_arn    = aws_cloudwatch_event_rule.upload[each.key].arn
}

resource "aws_cloudwatch_event_target" "upload" {
  for_each = local.eventbridge_mode ? local.triggers : {}

  rule = aws_cloudwatch_event_rule.upload[each.key].name
  arn  = aws_lambda_function.pipeline[0].arn

  # Delivery to Lambda (not the function's own failures, which the event invoke config handles).
  retry_policy {
    maximum_event_age_in_seconds = var.max_event_age_seconds
    maximum_retry_attempts       = 185
  }

  dead_letter_config {
    arn = aws_sqs_queue.failures[0].arn
  }

  depends_on = [aws_lambda_permission.eventbridge]
}

# --- scheduled runs ----------------------------------------------------------------------

resource "aws_scheduler_schedule" "pipeline" {
  for_each = local.schedules

  name                         = substr("${var.name}-${replace(each.key, "_", "-")}", 0, 64)
  description                  = "hookline: run pipeline ${each.key} on schedule"
  schedule_expression          = each.value.expression
  schedule_expression_timezone = var.schedule_timezone
  kms_key_arn                  = var.kms_key_arn

  flexible_time_window {
    mode = "OFF"
  }

  target {
    arn      = aws_lambda_function.pipeline[0].arn
    role_arn = aws_iam_role.scheduler[0].arn
    # Documented in README.md: {"source":"hookline.schedule","pipeline":"<name>"}
    input = each.value.aws_input

    retry_policy {
      maximum_event_age_in_seconds = var.max_event_age_seconds
      maximum_retry_attempts       = var.max_retry_attempts
    }

    dead_letter_config {
      arn = aws_sqs_queue.failures[0].arn
    }
  }

  depends_on = [aws_iam_role_policy.scheduler]
}
