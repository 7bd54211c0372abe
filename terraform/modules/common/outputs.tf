output "storage_root_prefix" {
  description = "The storage root's prefix inside the bucket, \"\" or ending in \"/\"."
  value       = local.root
}

output "storage_uri" {
  description = "HOOKLINE_STORAGE: the storage root URI (s3://, gs:// or az://)."
  value       = local.storage_uri
}

output "framework_prefixes" {
  description = "Bucket-absolute prefixes hookline writes to (runs/, registry/, monitoring/)."
  value       = local.framework_prefixes
}

output "registry_prefix" {
  description = "Bucket-absolute prefix of the model registry."
  value       = local.registry_prefix
}

output "predictions_prefix" {
  description = "Bucket-absolute prefix where the serving function writes prediction logs."
  value       = local.predictions_prefix
}

output "triggers" {
  description = "Filter key -> {key, pipeline, prefix, suffix}, prefixes bucket-absolute: the storage trigger filters. The key is the pipeline name, or \"<pipeline>-<n>\" when a pipeline has several suffixes."
  value       = local.triggers

  # Two filters that can match the same key: S3 rejects overlapping notification filters, and
  # the other clouds would deliver the upload twice.
  precondition {
    condition     = length(local.overlaps) == 0
    error_message = "Pipeline triggers overlap (one upload would match both; S3 rejects such notification filters and the other clouds deliver the upload twice): ${join("; ", local.overlaps)}. Give each pipeline its own prefix, or disjoint suffixes."
  }
}

output "pipeline_read_prefixes" {
  description = "Bucket-absolute prefixes the pipeline function may read."
  value       = local.pipeline_read_prefixes
}

output "pipeline_write_prefixes" {
  description = "Bucket-absolute prefixes the pipeline function may write and delete."
  value       = local.pipeline_write_prefixes
}

output "serving_read_prefixes" {
  description = "Bucket-absolute prefixes the serving function may read."
  value       = local.serving_read_prefixes
}

output "serving_write_prefixes" {
  description = "Bucket-absolute prefixes the serving function may write."
  value       = local.serving_write_prefixes
}

output "names" {
  description = "Resource names derived from var.name."
  value       = local.names
}

output "pipeline_resource_names" {
  description = "Pipeline name -> name for per-pipeline resources (rules, subscriptions, schedules)."
  value       = local.pipeline_resource_names
}

output "eventbridge_patterns" {
  description = "AWS: pipeline name -> EventBridge event pattern (JSON) for S3 Object Created events."
  value       = local.eventbridge_patterns
}

output "azure_subject_filters" {
  description = "Azure: pipeline name -> Event Grid subject filter {begins_with, ends_with} for BlobCreated."
  value       = local.azure_subject_filters
}

output "azure_conditions" {
  description = "Azure: ABAC conditions (version 2.0) confining blob data actions to the allowed prefixes, keyed pipeline_read, pipeline_write, serving_read, serving_write."
  value       = local.azure_conditions
}

output "gcs_conditions" {
  description = "GCP: IAM condition expressions for bucket bindings, keyed pipeline_read, pipeline_write, serving_read, serving_write."
  value       = local.gcs_conditions
}

output "schedule_payloads" {
  description = "Pipeline name -> what a scheduled run delivers on each cloud (see README)."
  value       = local.schedule_payloads
}

output "environment" {
  description = "Environment variables every function gets: HOOKLINE_STORAGE, and HOOKLINE_CONFIG / HOOKLINE_PLUGINS when set."
  value       = local.environment
}
