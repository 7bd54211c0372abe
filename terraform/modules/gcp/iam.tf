# Service accounts and their roles.
#   pipeline SA: read the trigger prefixes, landing/predictions/ and its own outputs; create,
#                overwrite and delete only under runs/, registry/, monitoring/ (IAM conditions).
#   serving SA:  read registry/; create objects under landing/predictions/; read the API keys.
#   trigger SA:  exactly what Eventarc needs: roles/eventarc.eventReceiver on the project and
#                roles/run.invoker on the pipeline function's service.
#   build SA:    builds the function image (logs, Artifact Registry, the source bucket).
# Cloud Storage checks object listing on the bucket, so the read conditions also admit the
# bucket resource: key names are listable, contents are not.

locals {
  member = {
    pipeline  = "serviceAccount:${google_service_account.pipeline.email}"
    serving   = "serviceAccount:${google_service_account.serving.email}"
    trigger   = "serviceAccount:${google_service_account.trigger.email}"
    build     = "serviceAccount:${google_service_account.build.email}"
    scheduler = "serviceAccount:${google_service_account.scheduler.email}"
  }
  bucket = var.create_bucket ? google_storage_bucket.this[0].name : var.bucket_name
}

resource "google_service_account" "pipeline" {
  project      = var.project_id
  account_id   = local.names.gcp_pipeline_sa
  display_name = "hookline ${var.name} pipeline"
}

resource "google_service_account" "serving" {
  project      = var.project_id
  account_id   = local.names.gcp_serving_sa
  display_name = "hookline ${var.name} serving"
}

resource "google_service_account" "trigger" {
  project      = var.project_id
  account_id   = local.names.gcp_trigger_sa
  display_name = "hookline ${var.name} Eventarc trigger"
}

resource "google_service_account" "build" {
  project      = var.project_id
  account_id   = local.names.gcp_build_sa
  display_name = "hookline ${var.name} function builds"
}

resource "google_service_account" "scheduler" {
  project      = var.project_id
  account_id   = local.names.gcp_scheduler_sa
  display_name = "hookline ${var.name} scheduled runs"
}

# --- storage access by prefix ------------------------------------------------------------

resource "google_storage_bucket_iam_member" "pipeline_read" {
  count = var.enable_pipeline ? 1 : 0

  bucket = local.bucket
  role   = "roles/storage.objectViewer"
  member = local.member.pipeline
  condition {
    title       = "hookline-pipeline-read"
    description = "trigger prefixes, prediction logs and hookline's own outputs"
    expression  = module.common.gcs_conditions.pipeline_read
  }
}

resource "google_storage_bucket_iam_member" "pipeline_write" {
  count = var.enable_pipeline ? 1 : 0

  bucket = local.bucket
  role   = "roles/storage.objectUser"
  member = local.member.pipeline
  condition {
    title       = "hookline-pipeline-write"
    description = "runs/, registry/ and monitoring/ only"
    expression  = module.common.gcs_conditions.pipeline_write
  }
}

resource "google_storage_bucket_iam_member" "serving_read" {
  count = var.enable_serving ? 1 : 0

  bucket = local.bucket
  role   = "roles/storage.objectViewer"
  member = local.member.serving
  condition {
    title       = "hookline-serving-read"
    description = "the model registry only"
    expression  = module.common.gcs_conditions.serving_read
  }
}

resource "google_storage_bucket_iam_member" "serving_write" {
  count = var.enable_serving ? 1 : 0

  bucket = local.bucket
  role   = "roles/storage.objectCreator"
  member = local.member.serving
  condition {
    title       = "hookline-serving-write"
    description = "prediction logs only"
    expression  = module.common.gcs_conditions.serving_write
  }
}

resource "google_secret_manager_secret_iam_member" "serving_api_keys" {
  count = var.enable_serving ? 1 : 0

  project   = var.project_id
  secret_id = local.api_keys_secret_id
  role      = "roles/secretmanager.secretAccessor"
  member    = local.member.serving
}

resource "google_secret_manager_secret_iam_member" "keys" {
  for_each = local.key_readers

  project    = var.project_id
  secret_id  = local.key_secret_ids[each.value.secret]
  role       = "roles/secretmanager.secretAccessor"
  member     = local.member[each.value.function]
  depends_on = [google_secret_manager_secret.keys]
}

# --- Eventarc: the storage service agent and the trigger service account -----------------

data "google_storage_project_service_account" "gcs_agent" {
  project = var.project_id

  depends_on = [google_project_service.apis]
}

# Cloud Storage publishes its events to Pub/Sub, which Eventarc reads.
resource "google_project_iam_member" "gcs_agent_pubsub_publisher" {
  count = var.enable_pipeline ? 1 : 0

  project = var.project_id
  role    = "roles/pubsub.publisher"
  member  = "serviceAccount:${data.google_storage_project_service_account.gcs_agent.email_address}"
}

resource "google_project_iam_member" "trigger_event_receiver" {
  count = var.enable_pipeline ? 1 : 0

  project = var.project_id
  role    = "roles/eventarc.eventReceiver"
  member  = local.member.trigger
}

resource "google_cloud_run_service_iam_member" "trigger_invoker" {
  count = var.enable_pipeline ? 1 : 0

  project  = var.project_id
  location = var.region
  service  = google_cloudfunctions2_function.pipeline[0].name
  role     = "roles/run.invoker"
  member   = local.member.trigger
}

resource "google_cloud_run_service_iam_member" "scheduler_invoker" {
  count = length(local.schedules) > 0 ? 1 : 0

  project  = var.project_id
  location = var.region
  service  = google_cloudfunctions2_function.pipeline[0].name
  role     = "roles/run.invoker"
  member   = local.member.scheduler
}

# --- the build service account -----------------------------------------------------------

resource "google_project_iam_member" "build" {
  for_each = toset(["roles/logging.logWriter", "roles/artifactregistry.writer"])

  project = var.project_id
  role    = each.value
  member  = local.member.build
}

resource "google_storage_bucket_iam_member" "build_source" {
  count = var.enable_pipeline || var.enable_serving ? 1 : 0

  bucket = google_storage_bucket.source[0].name
  role   = "roles/storage.objectViewer"
  member = local.member.build
}

# --- serving callers ---------------------------------------------------------------------

resource "google_cloud_run_service_iam_member" "serving_invokers" {
  for_each = var.enable_serving ? toset(var.serving_invokers) : toset([])

  project  = var.project_id
  location = var.region
  service  = google_cloudfunctions2_function.serving[0].name
  role     = "roles/run.invoker"
  member   = each.value
}

resource "google_cloud_run_service_iam_member" "serving_public" {
  count = var.enable_serving && var.serving_public ? 1 : 0
  #checkov:skip=CKV_GCP_102:A public endpoint is an explicit opt-in (serving_public = true); the app enforces API keys.

  project  = var.project_id
  location = var.region
  service  = google_cloudfunctions2_function.serving[0].name
  role     = "roles/run.invoker"
  member   = "allUsers"
}

# IAM grants take time to propagate, most of all on a fresh project: Eventarc refuses to
# create a trigger until the storage agent can publish, and builds fail until the build
# account's roles are visible.
resource "time_sleep" "iam_propagation" {
  create_duration = var.iam_propagation_wait

  depends_on = [
    google_project_iam_member.gcs_agent_pubsub_publisher,
    google_project_iam_member.trigger_event_receiver,
    google_project_iam_member.build,
    google_storage_bucket_iam_member.build_source,
  ]
}
