# Run offload (docs/scaling.md): runs that outgrow the pipeline function go to a Cloud Run job
# execution. Off unless enable_offload is true.

variable "enable_offload" {
  description = "Create what run offload needs: the Artifact Registry repository for the job image, the Cloud Run job, its service account, the pipeline's permission to run it with overrides, and the reconciler schedule (Cloud Run emits no job-state events). The pipelines' [compute] tables name what this creates (output offload_compute)."
  type        = bool
  default     = false
}

variable "offload_image" {
  description = "The job image by digest (REGION-docker.pkg.dev/PROJECT/REPO/NAME@sha256:...): the image `hookline package --cloud aws --format image` writes as job.oci.tar (built with the GCP libraries: --with google-cloud-storage --with google-cloud-run), pushed to the repository this module creates. Required when enable_offload is true."
  type        = string
  default     = null

  validation {
    condition     = var.offload_image == null || can(regex("^[^@\\s]+@sha256:[0-9a-f]{64}$", var.offload_image))
    error_message = "offload_image must be an image by digest: REPOSITORY@sha256:<64 hex digits>."
  }
}

variable "offload_cpu" {
  description = "vCPUs of a job's container (Cloud Run: 1, 2, 4, 6 or 8)."
  type        = string
  default     = "4"
}

variable "offload_memory" {
  description = "Memory of a job's container (e.g. \"16Gi\"; Cloud Run allows up to 32Gi)."
  type        = string
  default     = "16Gi"
}

variable "offload_max_runtime_seconds" {
  description = "Longest a job's task may run (Cloud Run jobs allow up to 168 hours); the [compute] table's max_runtime_seconds should match."
  type        = number
  default     = 86400

  validation {
    condition     = var.offload_max_runtime_seconds >= 60 && var.offload_max_runtime_seconds <= 604800
    error_message = "offload_max_runtime_seconds must be between 60 and 604800 (7 days)."
  }
}

variable "offload_reconcile_schedule" {
  description = "How often the reconciler visits the jobs in flight (cron). Cloud Run reports no job-state events: this is how failed and never-started executions are closed."
  type        = string
  default     = "*/10 * * * *"
}

variable "offload_repository_id" {
  description = "Artifact Registry repository for the job image (created). null: <name>-jobs."
  type        = string
  default     = null
}
