output "bucket_name" {
  description = "The Cloud Storage bucket holding the storage root."
  value       = local.bucket
}

output "storage_uri" {
  description = "HOOKLINE_STORAGE: the storage root URI."
  value       = module.common.storage_uri
}

output "triggers" {
  description = "The routes hookline applies inside the function: key -> {pipeline, prefix, suffix}."
  value       = module.common.triggers
}

output "pipeline_function_name" {
  description = "Name of the pipeline function (null when enable_pipeline is false)."
  value       = one(google_cloudfunctions2_function.pipeline[*].name)
}

output "serving_function_name" {
  description = "Name of the serving function."
  value       = one(google_cloudfunctions2_function.serving[*].name)
}

output "serving_url" {
  description = "HTTPS endpoint of the serving function."
  value       = one(google_cloudfunctions2_function.serving[*].service_config[0].uri)
}

output "pipeline_service_account" {
  description = "Email of the pipeline function's service account."
  value       = google_service_account.pipeline.email
}

output "serving_service_account" {
  description = "Email of the serving function's service account."
  value       = google_service_account.serving.email
}

output "trigger_service_account" {
  description = "Email of the Eventarc trigger's service account."
  value       = google_service_account.trigger.email
}

output "api_keys_secret" {
  description = "Secret Manager reference of the serving API keys (HOOKLINE_API_KEYS_SECRET)."
  value       = local.api_keys_secret_ref
}

output "log_bucket" {
  description = "Cloud Logging bucket that keeps the functions' logs for log_retention_days."
  value       = google_logging_project_bucket_config.functions.id
}

output "environment" {
  description = "Environment variables the functions get (without the secret reference)."
  value       = module.common.environment
}

output "bundle" {
  description = "What the functions run, read from the bundle manifest: {runtime, entry_points, sha256}."
  value       = { runtime = local.bundle.runtime, entry_points = local.bundle.entry_points, sha256 = local.bundle.sha256 }
}

output "signing_key_secret" {
  description = "Secret Manager reference of the registry signing key (HOOKLINE_SIGNING_KEY_SECRET), or null."
  value       = try(local.key_secret_refs.signing_key, null)
}

output "admin_keys_secret" {
  description = "Secret Manager reference of the administration keys (HOOKLINE_ADMIN_KEYS_SECRET), or null."
  value       = try(local.key_secret_refs.admin_keys, null)
}
