# Run offload outputs: what the pipelines' [compute] tables name (docs/scaling.md).

output "offload_compute" {
  description = "The backend settings of a pipeline's [compute] table for what this module created (null when enable_offload is false): paste them into hookline.toml."
  value = !local.offload ? null : {
    backend             = "container-apps-job"
    queue               = var.offload_jobs_queue_name
    connection          = "HOOKLINE_JOBS_QUEUE"
    image               = var.offload_image
    job                 = azurerm_container_app_job.train[0].name
    max_runtime_seconds = var.offload_max_runtime_seconds
  }
}

output "job_registry_login_server" {
  description = "The container registry to push the job image to (REGISTRY.azurecr.io)."
  value       = one(azurerm_container_registry.jobs[*].login_server)
}

output "job_identity_client_id" {
  description = "Client id of the identity offloaded runs run as."
  value       = one(azurerm_user_assigned_identity.job[*].client_id)
}
