# Run offload outputs: what the pipelines' [compute] tables name (docs/scaling.md).

output "offload_compute" {
  description = "The backend settings of a pipeline's [compute] table for what this module created (null when enable_offload is false): paste them into hookline.toml."
  value = !local.offload ? null : {
    backend             = "cloud-run-job"
    job                 = local.offload_job_id
    image               = var.offload_image
    max_runtime_seconds = var.offload_max_runtime_seconds
  }
}

output "job_image_repository" {
  description = "Artifact Registry repository to push the job image to (REGION-docker.pkg.dev/PROJECT/REPO)."
  value       = local.offload ? "${var.region}-docker.pkg.dev/${var.project_id}/${google_artifact_registry_repository.jobs[0].repository_id}" : null
}

output "job_service_account" {
  description = "The service account offloaded runs run as."
  value       = one(google_service_account.job[*].email)
}
