# Run offload (docs/scaling.md): runs that outgrow the pipeline function go to a Container Apps
# job, started by a message in a Storage Queue. Off unless enable_offload is true.

variable "enable_offload" {
  description = "Create what run offload needs: the container registry for the job image, the jobs queue, the Container Apps environment and the event-driven job its scale rule starts per message, the job's identity, and the reconciler's timer. The pipelines' [compute] tables name what this creates (output offload_compute)."
  type        = bool
  default     = false
}

variable "offload_image" {
  description = "The job image by digest (REGISTRY.azurecr.io/NAME@sha256:...): the image `hookline package --cloud aws --format image` writes as job.oci.tar (built with the Azure libraries: --with azure-storage-blob --with azure-identity --with azure-storage-queue), pushed to the registry this module creates. Required when enable_offload is true."
  type        = string
  default     = null

  validation {
    condition     = var.offload_image == null || can(regex("^[^@\\s]+@sha256:[0-9a-f]{64}$", var.offload_image))
    error_message = "offload_image must be an image by digest: REPOSITORY@sha256:<64 hex digits>."
  }
}

variable "offload_registry_name" {
  description = "Name of the Azure Container Registry for the job image (created; 5-50 letters and digits). null: derived from name."
  type        = string
  default     = null
}

variable "offload_jobs_queue_name" {
  description = "The Storage Queue whose messages start the job (in an account of its own: the jobs account): the [compute] table's queue."
  type        = string
  default     = "hookline-jobs"
}

variable "offload_cpu" {
  description = "vCPUs of a job's container (Consumption: 0.25-4)."
  type        = number
  default     = 4
}

variable "offload_memory" {
  description = "Memory of a job's container (Consumption: 2 GiB per vCPU, e.g. \"8Gi\" for 4 vCPUs)."
  type        = string
  default     = "8Gi"
}

variable "offload_max_runtime_seconds" {
  description = "Longest an execution may run (the job's replica timeout); the [compute] table's max_runtime_seconds should match."
  type        = number
  default     = 86400
}

variable "offload_max_executions" {
  description = "Most executions running at once (offloaded runs in parallel)."
  type        = number
  default     = 10
}

variable "offload_reconcile_schedule" {
  description = "How often the reconciler visits the jobs in flight (NCRONTAB, for the pipeline app's timer)."
  type        = string
  default     = "0 */10 * * * *"
}
