# hookline on GCP: Cloud Storage storage root, 2nd-gen Cloud Functions for the pipeline
# (Eventarc Cloud Storage trigger) and serving (HTTPS), least-privilege service accounts.

module "common" {
  source = "../common"

  cloud          = "gcp"
  name           = var.name
  bucket         = var.bucket_name
  storage_prefix = var.storage_prefix
  pipelines      = var.pipelines
  schedules      = var.schedules
  config_uri     = var.config_uri
  plugins        = var.plugins
  unique_seed    = var.project_id
}

data "google_project" "this" {
  project_id = var.project_id
}

locals {
  names     = module.common.names
  schedules = var.enable_pipeline ? module.common.schedule_payloads : {}
  apis = toset([
    "artifactregistry.googleapis.com",
    "cloudbuild.googleapis.com",
    "cloudfunctions.googleapis.com",
    "cloudscheduler.googleapis.com",
    "eventarc.googleapis.com",
    "logging.googleapis.com",
    "monitoring.googleapis.com",
    "pubsub.googleapis.com",
    "run.googleapis.com",
    "secretmanager.googleapis.com",
    "storage.googleapis.com",
  ])
  api_keys_secret_id = var.api_keys_secret_id != null ? var.api_keys_secret_id : (
    var.enable_serving ? google_secret_manager_secret.api_keys[0].secret_id : null
  )
  api_keys_secret_ref = local.api_keys_secret_id == null ? null : "projects/${var.project_id}/secrets/${local.api_keys_secret_id}/versions/latest"
}

resource "google_project_service" "apis" {
  for_each = var.enable_apis ? local.apis : toset([])

  project            = var.project_id
  service            = each.value
  disable_on_destroy = false
}

# --- buckets -----------------------------------------------------------------------------

resource "google_storage_bucket" "this" {
  count = var.create_bucket ? 1 : 0
  #checkov:skip=CKV_GCP_62:Access logs need a separate log bucket chosen by the operator; Cloud Audit Logs cover data access.

  project                     = var.project_id
  name                        = var.bucket_name
  location                    = upper(var.region)
  uniform_bucket_level_access = true
  public_access_prevention    = "enforced"
  force_destroy               = false
  labels                      = var.labels

  # Run records name the exact generation that triggered them.
  versioning {
    enabled = true
  }

  lifecycle_rule {
    condition {
      days_since_noncurrent_time = var.noncurrent_version_expiration_days
    }
    action {
      type = "Delete"
    }
  }

  dynamic "encryption" {
    for_each = var.kms_key_name == null ? [] : [var.kms_key_name]
    content {
      default_kms_key_name = encryption.value
    }
  }

  depends_on = [google_project_service.apis]
}

# Function source, uploaded under a content-addressed name so a new bundle redeploys.
resource "google_storage_bucket" "source" {
  count = var.enable_pipeline || var.enable_serving ? 1 : 0
  #checkov:skip=CKV_GCP_62:Holds only build inputs; access logging adds nothing.
  #checkov:skip=CKV_GCP_78:Objects are content-addressed and re-uploaded from dist/; versioning adds nothing.

  project                     = var.project_id
  name                        = "${var.bucket_name}-src"
  location                    = upper(var.region)
  uniform_bucket_level_access = true
  public_access_prevention    = "enforced"
  force_destroy               = true
  labels                      = var.labels

  dynamic "encryption" {
    for_each = var.kms_key_name == null ? [] : [var.kms_key_name]
    content {
      default_kms_key_name = encryption.value
    }
  }

  depends_on = [google_project_service.apis]
}

resource "google_storage_bucket_object" "source" {
  count = var.enable_pipeline || var.enable_serving ? 1 : 0

  name   = "hookline-source-${filemd5(var.source_package)}.zip"
  bucket = google_storage_bucket.source[0].name
  source = var.source_package
}

# --- serving API keys (the value is never in Terraform) -----------------------------------

resource "google_secret_manager_secret" "api_keys" {
  count = var.enable_serving && var.api_keys_secret_id == null ? 1 : 0

  project   = var.project_id
  secret_id = "${var.name}-serving-api-keys"
  labels    = var.labels

  replication {
    auto {}
  }

  depends_on = [google_project_service.apis]
}

# --- failure visibility and log retention ------------------------------------------------

resource "google_logging_project_bucket_config" "functions" {
  project        = var.project_id
  location       = "global"
  bucket_id      = local.names.log_bucket
  retention_days = var.log_retention_days
  description    = "hookline ${var.name}: function logs"

  depends_on = [google_project_service.apis]
}

resource "google_logging_project_sink" "functions" {
  project                = var.project_id
  name                   = local.names.log_bucket
  destination            = "logging.googleapis.com/${google_logging_project_bucket_config.functions.id}"
  filter                 = "resource.type=\"cloud_run_revision\" AND resource.labels.service_name=(\"${local.names.pipeline_function}\" OR \"${local.names.serving_function}\")"
  unique_writer_identity = true
}

resource "google_logging_metric" "pipeline_errors" {
  count = var.enable_pipeline ? 1 : 0

  project = var.project_id
  name    = "${var.name}/pipeline-errors"
  filter  = "resource.type=\"cloud_run_revision\" AND resource.labels.service_name=\"${local.names.pipeline_function}\" AND severity>=ERROR"

  metric_descriptor {
    metric_kind = "DELTA"
    value_type  = "INT64"
  }

  depends_on = [google_project_service.apis]
}

# Failed events are retried for up to 24 hours and then dropped by Eventarc: alert on the
# errors, so a failing pipeline is seen before its events expire.
resource "google_monitoring_alert_policy" "pipeline_errors" {
  count = var.enable_pipeline ? 1 : 0

  project               = var.project_id
  display_name          = "hookline ${var.name}: pipeline function errors"
  combiner              = "OR"
  notification_channels = var.alert_notification_channels

  conditions {
    display_name = "pipeline errors logged"
    condition_threshold {
      filter          = "metric.type=\"logging.googleapis.com/user/${google_logging_metric.pipeline_errors[0].name}\" AND resource.type=\"cloud_run_revision\""
      comparison      = "COMPARISON_GT"
      threshold_value = 0
      duration        = "0s"
      aggregations {
        alignment_period   = "300s"
        per_series_aligner = "ALIGN_SUM"
      }
    }
  }

  documentation {
    content   = "The hookline pipeline function ${local.names.pipeline_function} logged errors. Transient failures are retried for up to 24 hours; check the function's logs and `hookline runs` for failed run records."
    mime_type = "text/markdown"
  }
}
