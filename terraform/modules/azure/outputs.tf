output "storage_account_id" {
  description = "Resource id of the storage account holding the storage root."
  value       = local.data_id
}

output "container_name" {
  description = "Blob container holding the storage root."
  value       = azurerm_storage_container.data.name
}

output "storage_uri" {
  description = "HOOKLINE_STORAGE: the storage root URI (az://container[/prefix])."
  value       = module.common.storage_uri
}

output "storage_account_url" {
  description = "Blob endpoint of the storage account (AZURE_STORAGE_ACCOUNT_URL)."
  value       = trimsuffix(local.data_blob, "/")
}

output "triggers" {
  description = "The upload filters: key -> {pipeline, prefix, suffix} (prefixes container-absolute)."
  value       = module.common.triggers
}

output "pipeline_app_name" {
  description = "Name of the pipeline function app (null when enable_pipeline is false)."
  value       = try(azurerm_linux_function_app.this["pipeline"].name, null)
}

output "serving_app_name" {
  description = "Name of the serving function app."
  value       = try(azurerm_linux_function_app.this["serving"].name, null)
}

output "serving_url" {
  description = "Base HTTPS URL of the serving app (routes carry /api unless host.json sets routePrefix to \"\")."
  value       = try("https://${azurerm_linux_function_app.this["serving"].default_hostname}", null)
}

output "dead_letter_container" {
  description = "Where events that failed every delivery attempt are written: <account>/<container>."
  value       = "${azurerm_storage_account.host.name}/${azurerm_storage_container.dead_letter.name}"
}

output "api_keys_secret_uri" {
  description = "Key Vault secret URI of the serving API keys (HOOKLINE_API_KEYS_SECRET)."
  value       = local.api_keys_secret_uri
}

output "key_vault_name" {
  description = "Key Vault the module created for the serving app's secrets, API keys and administration keys (null when none is module-managed)."
  value       = one(azurerm_key_vault.this[*].name)
}

output "application_insights_name" {
  description = "Application Insights component receiving both apps' telemetry."
  value       = azurerm_application_insights.this.name
}

output "environment" {
  description = "hookline environment variables the apps get (without the secret reference)."
  value       = module.common.environment
}

output "events_queue" {
  description = "Storage queue the upload events go through (HOOKLINE_EVENTS_QUEUE); failed messages move to <name>-poison."
  value       = one(azurerm_storage_queue.events[*].name)
}

output "bundles" {
  description = "What each app runs, read from the bundle manifests: role -> {runtime, sha256}."
  value       = { for r, b in local.bundle : r => { runtime = b.runtime, sha256 = b.sha256 } }
}

output "signing_key_secret_uri" {
  description = "Key Vault secret URI of the registry signing key (HOOKLINE_SIGNING_KEY_SECRET), or null."
  value       = local.signing_key ? local.signing_key_secret_uri : null
}

output "admin_keys_secret_uri" {
  description = "Key Vault secret URI of the administration keys (HOOKLINE_ADMIN_KEYS_SECRET), or null."
  value       = local.admin_keys ? local.admin_keys_secret_uri : null
}

output "signing_key_vault_name" {
  description = "Key Vault the module created for the signing key (null unless create_signing_key_secret)."
  value       = one(azurerm_key_vault.signing[*].name)
}
