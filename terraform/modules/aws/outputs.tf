output "bucket_name" {
  description = "The S3 bucket holding the storage root."
  value       = var.bucket_name
}

output "bucket_arn" {
  description = "ARN of the bucket."
  value       = local.bucket_arn
}

output "storage_uri" {
  description = "HOOKLINE_STORAGE: the storage root URI, for `hookline runs`, `hookline models` and local runs."
  value       = module.common.storage_uri
}

output "triggers" {
  description = "The upload filters: key -> {pipeline, prefix, suffix} (prefixes bucket-absolute)."
  value       = module.common.triggers
}

output "pipeline_function_name" {
  description = "Name of the pipeline Lambda function (null when enable_pipeline is false)."
  value       = one(aws_lambda_function.pipeline[*].function_name)
}

output "pipeline_function_arn" {
  description = "ARN of the pipeline Lambda function."
  value       = one(aws_lambda_function.pipeline[*].arn)
}

output "pipeline_role_arn" {
  description = "ARN of the pipeline function's role."
  value       = one(aws_iam_role.pipeline[*].arn)
}

output "failure_queue_url" {
  description = "SQS queue receiving events that failed after all retries."
  value       = one(aws_sqs_queue.failures[*].url)
}

output "failure_queue_arn" {
  description = "ARN of the failure queue."
  value       = one(aws_sqs_queue.failures[*].arn)
}

output "serving_function_name" {
  description = "Name of the serving Lambda function (null when enable_serving is false)."
  value       = one(aws_lambda_function.serving[*].function_name)
}

output "serving_url" {
  description = "HTTPS endpoint of the serving function (Function URL)."
  value       = one(aws_lambda_function_url.serving[*].function_url)
}

output "serving_role_arn" {
  description = "ARN of the serving function's role."
  value       = one(aws_iam_role.serving[*].arn)
}

output "api_keys_secret_arn" {
  description = "Secrets Manager secret holding the serving API keys (HOOKLINE_API_KEYS_SECRET)."
  value       = local.api_keys_secret_arn
}

output "serving_invoke_policy_json" {
  description = "IAM policy to attach to callers of an AWS_IAM-authenticated serving URL."
  value       = one(data.aws_iam_policy_document.serving_invoke[*].json)
}

output "trainer_policy_json" {
  description = "IAM policy for a principal that runs the pipeline outside AWS (hybrid): upload to the trigger prefixes, read inputs, write runs/, registry/, monitoring/."
  value       = data.aws_iam_policy_document.trainer.json
}

output "environment" {
  description = "hookline environment variables both functions get (secret references not included)."
  value       = module.common.environment
}

output "bundles" {
  description = "What each function runs, read from the bundle manifests: role -> {format, runtime, architecture, handler, sha256, digest}."
  value = { for r, b in local.bundle : r => {
    format       = b.format
    runtime      = b.runtime
    architecture = b.architecture
    handler      = b.handler
    sha256       = b.sha256
    digest       = b.digest
  } }
}

output "artifacts_bucket" {
  description = "S3 bucket the zips are uploaded to (null when no bundle is a zip)."
  value       = length(local.zips) > 0 ? local.artifacts_bucket : null
}

output "signing_key_secret_arn" {
  description = "Secrets Manager secret of the registry signing key (HOOKLINE_SIGNING_KEY_SECRET), or null."
  value       = local.signing_key ? local.signing_key_secret_arn : null
}

output "admin_keys_secret_arn" {
  description = "Secrets Manager secret of the administration keys (HOOKLINE_ADMIN_KEYS_SECRET), or null."
  value       = local.admin_keys ? local.admin_keys_secret_arn : null
}

output "alarm_names" {
  description = "CloudWatch alarms on run outcomes: failed, rejected, no successful run in max_days_without_training days."
  value = concat(
    [for a in aws_cloudwatch_metric_alarm.run_failed : a.alarm_name],
    [for a in aws_cloudwatch_metric_alarm.run_rejected : a.alarm_name],
    [for a in aws_cloudwatch_metric_alarm.no_training : a.alarm_name],
  )
}
