# The two 2nd-gen Cloud Functions, built from the one source zip of `hookline package --cloud
# gcp`; runtime and entry points (`pipeline`: CloudEvent, `serving`: HTTP) come from its
# manifest (bundles.tf).

resource "google_cloudfunctions2_function" "pipeline" {
  count = var.enable_pipeline ? 1 : 0

  project     = var.project_id
  name        = local.names.pipeline_function
  location    = var.region
  description = "hookline pipeline: ingest, train, validate, deploy, monitor on storage events"
  labels      = var.labels

  build_config {
    runtime         = local.bundle.runtime
    entry_point     = local.bundle.entry_points.pipeline
    service_account = google_service_account.build.id
    source {
      storage_source {
        bucket = google_storage_bucket.source[0].name
        object = google_storage_bucket_object.source[0].name
      }
    }
  }

  service_config {
    available_memory               = var.pipeline_memory
    available_cpu                  = var.pipeline_cpu
    timeout_seconds                = var.pipeline_timeout_seconds
    max_instance_count             = var.pipeline_max_instances
    ingress_settings               = var.pipeline_ingress
    all_traffic_on_latest_revision = true
    service_account_email          = google_service_account.pipeline.email
    environment_variables          = merge(module.common.environment, local.function_secrets.pipeline, local.offload ? local.offload_function_environment : {})
  }

  # Cloud Storage triggers filter on the bucket only (no prefix or suffix filter exists for
  # direct events): every object finalized in the bucket reaches the function, which routes it
  # by hookline.toml's prefixes and ignores its own outputs (runs/, registry/, monitoring/).
  event_trigger {
    trigger_region        = lower(var.region)
    event_type            = "google.cloud.storage.object.v1.finalized"
    retry_policy          = var.retry_on_failure ? "RETRY_POLICY_RETRY" : "RETRY_POLICY_DO_NOT_RETRY"
    service_account_email = google_service_account.trigger.email

    event_filters {
      attribute = "bucket"
      value     = local.bucket
    }
  }

  lifecycle {
    precondition {
      condition     = length(local.bundle_problems) == 0
      error_message = "The source bundle cannot be deployed:\n  - ${join("\n  - ", local.bundle_problems)}"
    }
  }

  depends_on = [time_sleep.iam_propagation, google_storage_bucket_iam_member.pipeline_read, google_secret_manager_secret_iam_member.keys]
}

resource "google_cloudfunctions2_function" "serving" {
  count = var.enable_serving ? 1 : 0
  #checkov:skip=CKV_GCP_124:The serving endpoint must be reachable by clients outside the VPC; IAM (run.invoker) authenticates every call unless serving_public opts out.

  project     = var.project_id
  name        = local.names.serving_function
  location    = var.region
  description = "hookline serving: predictions from the registry's production model"
  labels      = var.labels

  build_config {
    runtime         = local.bundle.runtime
    entry_point     = local.bundle.entry_points.serving
    service_account = google_service_account.build.id
    source {
      storage_source {
        bucket = google_storage_bucket.source[0].name
        object = google_storage_bucket_object.source[0].name
      }
    }
  }

  service_config {
    available_memory               = var.serving_memory
    timeout_seconds                = var.serving_timeout_seconds
    max_instance_count             = var.serving_max_instances
    ingress_settings               = "ALLOW_ALL"
    all_traffic_on_latest_revision = true
    service_account_email          = google_service_account.serving.email
    environment_variables          = merge(module.common.environment, local.function_secrets.serving)
  }

  lifecycle {
    precondition {
      condition     = length(local.bundle_problems) == 0
      error_message = "The source bundle cannot be deployed:\n  - ${join("\n  - ", local.bundle_problems)}"
    }
  }

  depends_on = [time_sleep.iam_propagation, google_secret_manager_secret_iam_member.serving_api_keys, google_secret_manager_secret_iam_member.keys]
}

# --- scheduled runs ----------------------------------------------------------------------

resource "google_cloud_scheduler_job" "pipeline" {
  for_each = local.schedules

  project          = var.project_id
  region           = var.region
  name             = substr("${var.name}-${replace(each.key, "_", "-")}", 0, 500)
  description      = "hookline: run pipeline ${each.key} on schedule"
  schedule         = each.value.expression
  time_zone        = var.schedule_timezone
  attempt_deadline = "${var.pipeline_timeout_seconds}s"

  retry_config {
    retry_count          = 3
    min_backoff_duration = "60s"
  }

  # A binary-mode CloudEvent of type hookline.schedule with data {"pipeline": "<name>"}.
  # Cloud Scheduler adds X-CloudScheduler-ScheduleTime, which identifies each firing.
  http_target {
    http_method = "POST"
    uri         = google_cloudfunctions2_function.pipeline[0].service_config[0].uri
    body        = base64encode(each.value.gcp_body)
    headers     = each.value.gcp_headers

    oidc_token {
      service_account_email = google_service_account.scheduler.email
      audience              = google_cloudfunctions2_function.pipeline[0].service_config[0].uri
    }
  }

  depends_on = [google_cloud_run_service_iam_member.scheduler_invoker]
}
