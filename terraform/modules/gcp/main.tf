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

  # Registry signing key (pipeline signs, serving verifies) and administration keys (serving):
  # an existing secret (short id), one the module creates, or none.
  signing_key = var.signing_key_secret_id != null || var.create_signing_key_secret
  admin_keys  = var.enable_serving && (var.admin_keys_secret_id != null || var.create_admin_keys_secret)
  key_secret_ids = merge(
    local.signing_key ? { signing_key = coalesce(var.signing_key_secret_id, "${var.name}-registry-signing-key") } : {},
    local.admin_keys ? { admin_keys = coalesce(var.admin_keys_secret_id, "${var.name}-admin-keys") } : {},
  )
  key_secret_refs = { for k, id in local.key_secret_ids : k => "projects/${var.project_id}/secrets/${id}/versions/latest" }
  function_secrets = {
    pipeline = local.signing_key ? { HOOKLINE_SIGNING_KEY_SECRET = local.key_secret_refs.signing_key } : {}
    serving = merge(
      { HOOKLINE_API_KEYS_SECRET = local.api_keys_secret_ref },
      local.signing_key ? { HOOKLINE_SIGNING_KEY_SECRET = local.key_secret_refs.signing_key } : {},
      local.admin_keys ? { HOOKLINE_ADMIN_KEYS_SECRET = local.key_secret_refs.admin_keys } : {},
    )
  }
  # secret -> the service accounts that read it (exactly the functions that need it).
  key_readers = merge(
    local.signing_key ? { for f in concat(var.enable_pipeline ? ["pipeline"] : [], var.enable_serving ? ["serving"] : []) : "signing_key-${f}" => { secret = "signing_key", function = f } } : {},
    local.admin_keys ? { "admin_keys-serving" = { secret = "admin_keys", function = "serving" } } : {},
  )
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

  name   = "hookline-source-${local.bundle.sha256}.zip"
  bucket = google_storage_bucket.source[0].name
  source = local.bundle.artifact

  lifecycle {
    precondition {
      condition     = length(local.bundle_problems) == 0
      error_message = "The source bundle cannot be deployed:\n  - ${join("\n  - ", local.bundle_problems)}"
    }
  }
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

resource "google_secret_manager_secret" "keys" {
  for_each = { for k, id in local.key_secret_ids : k => id if(k == "signing_key" ? var.signing_key_secret_id == null : var.admin_keys_secret_id == null) }

  project   = var.project_id
  secret_id = each.value
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

# hookline's own errors: its JSON lines carry Cloud Logging's `severity` field (docs/operations.md, "Logs and metrics"),
# which Cloud Logging lifts into the entry's severity; plain-text lines would carry none.
resource "google_logging_metric" "pipeline_errors" {
  count = var.enable_pipeline ? 1 : 0

  project = var.project_id
  name    = "${var.name}-hookline-errors"
  filter  = "resource.type=\"cloud_run_revision\" AND resource.labels.service_name=\"${local.names.pipeline_function}\" AND severity>=ERROR AND jsonPayload.logger=~\"^hookline\""

  metric_descriptor {
    metric_kind = "DELTA"
    value_type  = "INT64"
  }

  depends_on = [google_project_service.apis]
}

# Run outcomes (docs/operations.md, "Logs and metrics"): one count per finished run, labelled by status and pipeline.
resource "google_logging_metric" "runs" {
  count = var.enable_pipeline ? 1 : 0

  project = var.project_id
  name    = "${var.name}-runs"
  filter  = "resource.type=\"cloud_run_revision\" AND resource.labels.service_name=\"${local.names.pipeline_function}\" AND jsonPayload.event=\"run_finished\""

  metric_descriptor {
    metric_kind = "DELTA"
    value_type  = "INT64"
    labels {
      key         = "status"
      value_type  = "STRING"
      description = "succeeded, failed or rejected"
    }
    labels {
      key         = "pipeline"
      value_type  = "STRING"
      description = "the pipeline that ran"
    }
    labels {
      key         = "drifted"
      value_type  = "STRING"
      description = "true when the run's monitor found drift"
    }
  }

  label_extractors = {
    status   = "EXTRACT(jsonPayload.status)"
    pipeline = "EXTRACT(jsonPayload.pipeline)"
    drifted  = "EXTRACT(jsonPayload.drifted)"
  }

  depends_on = [google_project_service.apis]
}

# How long runs take (RunSeconds), per pipeline.
resource "google_logging_metric" "run_seconds" {
  count = var.enable_pipeline ? 1 : 0

  project         = var.project_id
  name            = "${var.name}-run-seconds"
  filter          = google_logging_metric.runs[0].filter
  value_extractor = "EXTRACT(jsonPayload.seconds)"

  metric_descriptor {
    metric_kind = "DELTA"
    value_type  = "DISTRIBUTION"
    unit        = "s"
    labels {
      key        = "pipeline"
      value_type = "STRING"
    }
  }

  label_extractors = {
    pipeline = "EXTRACT(jsonPayload.pipeline)"
  }

  bucket_options {
    exponential_buckets {
      num_finite_buckets = 16
      growth_factor      = 2
      scale              = 1
    }
  }

  depends_on = [google_project_service.apis]
}

# Failed events are retried for up to 24 hours and then dropped by Eventarc: alert on the
# errors, so a failing pipeline is seen before its events expire.
resource "google_monitoring_alert_policy" "pipeline_errors" {
  count = var.enable_pipeline ? 1 : 0

  project               = var.project_id
  display_name          = "hookline ${var.name}: pipeline errors"
  combiner              = "OR"
  notification_channels = var.alert_notification_channels

  conditions {
    display_name = "hookline logged errors"
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

locals {
  alert_pipelines = var.enable_pipeline ? toset(distinct(concat(keys(var.pipelines), keys(var.schedules)))) : toset([])
  run_alerts = merge(
    { for p in local.alert_pipelines : "${p}-failed" => { pipeline = p, status = "failed", what = "a run failed" } },
    var.alarm_on_rejected_runs ? { for p in local.alert_pipelines : "${p}-rejected" => { pipeline = p, status = "rejected", what = "a candidate was rejected by its gates" } } : {},
  )
}

resource "google_monitoring_alert_policy" "runs" {
  for_each = local.run_alerts

  project               = var.project_id
  display_name          = "hookline ${var.name}: ${each.value.pipeline}: ${each.value.what}"
  combiner              = "OR"
  notification_channels = var.alert_notification_channels

  conditions {
    display_name = "${each.value.pipeline} runs ${each.value.status}"
    condition_threshold {
      filter          = "metric.type=\"logging.googleapis.com/user/${google_logging_metric.runs[0].name}\" AND resource.type=\"cloud_run_revision\" AND metric.label.status=\"${each.value.status}\" AND metric.label.pipeline=\"${each.value.pipeline}\""
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
    content   = "hookline pipeline ${each.value.pipeline}: ${each.value.what}. `hookline runs` shows the run record."
    mime_type = "text/markdown"
  }
}

# No succeeded run for N days: absence of the succeeded series over the whole window.
resource "google_monitoring_alert_policy" "no_training" {
  for_each = var.max_days_without_training > 0 ? local.alert_pipelines : toset([])

  project               = var.project_id
  display_name          = "hookline ${var.name}: ${each.key}: no successful run in ${var.max_days_without_training} days"
  combiner              = "OR"
  notification_channels = var.alert_notification_channels

  conditions {
    display_name = "${each.key} has not succeeded for ${var.max_days_without_training} days"
    condition_prometheus_query_language {
      query               = "absent_over_time({\"__name__\"=\"logging.googleapis.com/user/${google_logging_metric.runs[0].name}\",\"status\"=\"succeeded\",\"pipeline\"=\"${each.key}\"}[${var.max_days_without_training}d])"
      duration            = "0s"
      evaluation_interval = "3600s"
    }
  }

  documentation {
    content   = "hookline pipeline ${each.key} has had no successful run for ${var.max_days_without_training} days: the model is no longer being retrained."
    mime_type = "text/markdown"
  }
}
