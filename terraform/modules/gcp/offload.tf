# Run offload (docs/scaling.md), when enable_offload is true: a run that outgrows the pipeline
# function runs as an execution of one Cloud Run job, started with `jobs.run` and per-execution
# overrides (the run's variables). The job's container is the job image, entry point
# `python3 -m hookline job run`.
#
#   Artifact Registry  <- push the job image (skopeo copy oci-archive:dist/aws/job.oci.tar ...)
#   Cloud Run job      <- the pipeline's service account may run it with overrides, and read
#                         and cancel its executions (a custom role: nothing more)
#   Cloud Scheduler    -> {"source":"hookline.reconcile"} as a CloudEvent to the pipeline,
#                         which closes failed, stalled and never-started executions

locals {
  offload          = var.enable_offload && var.enable_pipeline
  offload_job_name = "${var.name}-job"
  offload_digest   = var.offload_image == null ? "" : split("@", var.offload_image)[1]
  offload_job_id   = "projects/${var.project_id}/locations/${var.region}/jobs/${local.offload_job_name}"
  offload_environment = merge(
    module.common.environment,
    local.function_secrets.pipeline,
    { HOOKLINE_IMAGE_DIGEST = local.offload_digest },
  )
  # The pipeline function's lease ends at its own deadline (docs/scaling.md, leases).
  offload_function_environment = { HOOKLINE_FUNCTION_TIMEOUT_SECONDS = tostring(var.pipeline_timeout_seconds) }
}

resource "google_artifact_registry_repository" "jobs" {
  count = local.offload ? 1 : 0
  #checkov:skip=CKV_GCP_84:Google-managed encryption; a customer-managed key needs a KMS key ring the operator owns, and the job image holds code and libraries, no data.

  project       = var.project_id
  location      = var.region
  repository_id = coalesce(var.offload_repository_id, "${var.name}-jobs")
  description   = "hookline ${var.name}: job images of offloaded runs"
  format        = "DOCKER"
  labels        = var.labels

  docker_config {
    immutable_tags = true
  }
}

resource "google_service_account" "job" {
  count = local.offload ? 1 : 0

  project      = var.project_id
  account_id   = substr("${var.name}-job", 0, 30)
  display_name = "hookline ${var.name} offloaded runs"
}

# The job does with the storage root exactly what the pipeline function does.
resource "google_storage_bucket_iam_member" "job_read" {
  count = local.offload ? 1 : 0

  bucket = local.bucket
  role   = "roles/storage.objectViewer"
  member = "serviceAccount:${google_service_account.job[0].email}"
  condition {
    title       = "hookline-job-read"
    description = "trigger prefixes, prediction logs and hookline's own outputs"
    expression  = module.common.gcs_conditions.pipeline_read
  }
}

resource "google_storage_bucket_iam_member" "job_write" {
  count = local.offload ? 1 : 0

  bucket = local.bucket
  role   = "roles/storage.objectUser"
  member = "serviceAccount:${google_service_account.job[0].email}"
  condition {
    title       = "hookline-job-write"
    description = "runs/, registry/ and monitoring/ only"
    expression  = module.common.gcs_conditions.pipeline_write
  }
}

resource "google_secret_manager_secret_iam_member" "job_signing_key" {
  count = local.offload && local.signing_key ? 1 : 0

  project    = var.project_id
  secret_id  = local.key_secret_ids.signing_key
  role       = "roles/secretmanager.secretAccessor"
  member     = "serviceAccount:${google_service_account.job[0].email}"
  depends_on = [google_secret_manager_secret.keys]
}

resource "google_cloud_run_v2_job" "train" {
  count = local.offload ? 1 : 0

  project  = var.project_id
  name     = local.offload_job_name
  location = var.region
  labels   = var.labels

  template {
    task_count = 1

    template {
      service_account = google_service_account.job[0].email
      timeout         = "${var.offload_max_runtime_seconds}s"
      # hookline counts attempts itself (the [compute] table's max_attempts).
      max_retries = 0

      containers {
        image = var.offload_image

        resources {
          limits = {
            cpu    = var.offload_cpu
            memory = var.offload_memory
          }
        }

        dynamic "env" {
          for_each = local.offload_environment
          content {
            name  = env.key
            value = env.value
          }
        }
      }
    }
  }

  lifecycle {
    precondition {
      condition     = var.offload_image != null
      error_message = "enable_offload needs offload_image: the job image by digest, pushed to ${var.region}-docker.pkg.dev/${var.project_id}/${coalesce(var.offload_repository_id, "${var.name}-jobs")}."
    }
  }

  depends_on = [google_storage_bucket_iam_member.job_read, google_storage_bucket_iam_member.job_write]
}

# Exactly what dispatching needs: run the job with overrides, read and cancel its executions.
resource "google_project_iam_custom_role" "dispatcher" {
  count = local.offload ? 1 : 0

  project     = var.project_id
  role_id     = replace("${var.name}_job_dispatcher", "-", "_")
  title       = "hookline ${var.name} job dispatcher"
  description = "Run the hookline job with per-execution overrides; read and cancel its executions."
  permissions = [
    "run.jobs.run",
    "run.jobs.runWithOverrides",
    "run.executions.get",
    "run.executions.list",
    "run.executions.cancel",
  ]
}

resource "google_cloud_run_v2_job_iam_member" "dispatcher" {
  count = local.offload ? 1 : 0

  project  = var.project_id
  location = var.region
  name     = google_cloud_run_v2_job.train[0].name
  role     = google_project_iam_custom_role.dispatcher[0].id
  member   = local.member.pipeline
}

# --- the reconciler's schedule -------------------------------------------------------------

resource "google_cloud_run_service_iam_member" "reconciler_invoker" {
  count = local.offload ? 1 : 0

  project  = var.project_id
  location = var.region
  service  = google_cloudfunctions2_function.pipeline[0].name
  role     = "roles/run.invoker"
  member   = local.member.scheduler
}

resource "google_cloud_scheduler_job" "reconcile" {
  count = local.offload ? 1 : 0

  project          = var.project_id
  region           = var.region
  name             = "${var.name}-reconcile"
  description      = "hookline: the run-offload reconciler"
  schedule         = var.offload_reconcile_schedule
  time_zone        = var.schedule_timezone
  attempt_deadline = "${var.pipeline_timeout_seconds}s"

  retry_config {
    retry_count          = 1
    min_backoff_duration = "60s"
  }

  # A binary-mode CloudEvent of type hookline.reconcile (adapters/gcp/events.py).
  http_target {
    http_method = "POST"
    uri         = google_cloudfunctions2_function.pipeline[0].service_config[0].uri
    body        = base64encode(jsonencode({ source = "hookline.reconcile" }))
    headers = {
      "Content-Type"   = "application/json"
      "ce-specversion" = "1.0"
      "ce-type"        = "hookline.reconcile"
      "ce-source"      = "hookline/${var.name}/reconcile"
      "ce-id"          = "${var.name}-reconcile"
    }

    oidc_token {
      service_account_email = google_service_account.scheduler.email
      audience              = google_cloudfunctions2_function.pipeline[0].service_config[0].uri
    }
  }

  depends_on = [google_cloud_run_service_iam_member.reconciler_invoker]
}
