# Offline plans of the GCP module against the schema of the pinned google provider (mocked).
# A bad bundle stops the plan at its upload (google_storage_bucket_object.source).

mock_provider "google" {
  mock_data "google_storage_project_service_account" {
    defaults = { email_address = "service-123@gs-project-accounts.iam.gserviceaccount.com" }
  }
}
mock_provider "time" {}

variables {
  project_id  = "hookline-test"
  region      = "europe-west1"
  name        = "hookline-test"
  bucket_name = "hookline-test-bucket"
  bundle_dir  = "tests/fixtures/ok"
  pipelines = {
    train = { prefix = "landing/train/", suffix = ".csv" }
  }
}

# Defect 1: runtime and entry points come from the manifest.
run "functions_run_what_the_manifest_says" {
  command = plan
  assert {
    condition     = google_cloudfunctions2_function.pipeline[0].build_config[0].runtime == "python312" && google_cloudfunctions2_function.serving[0].build_config[0].runtime == "python312"
    error_message = "the runtime must be the manifest's"
  }
  assert {
    condition     = google_cloudfunctions2_function.pipeline[0].build_config[0].entry_point == "pipeline" && google_cloudfunctions2_function.serving[0].build_config[0].entry_point == "serving"
    error_message = "the entry points must be the manifest's"
  }
  assert {
    condition     = google_storage_bucket_object.source[0].name == "hookline-source-${jsondecode(file("tests/fixtures/ok/source.manifest.json")).sha256}.zip"
    error_message = "the source object is named by the bundle's hash"
  }
}

run "a_bundle_for_an_unsupported_python_fails_the_plan" {
  command = plan
  variables {
    bundle_dir = "tests/fixtures/python-3.10"
  }
  expect_failures = [google_storage_bucket_object.source]
}

run "a_bundle_for_another_cloud_fails_the_plan" {
  command = plan
  variables {
    bundle_dir = "tests/fixtures/other-cloud"
  }
  expect_failures = [google_storage_bucket_object.source]
}

run "an_arm64_bundle_fails_the_plan" {
  command = plan
  variables {
    bundle_dir = "tests/fixtures/arch-arm64"
  }
  expect_failures = [google_storage_bucket_object.source]
}

run "an_archive_changed_after_packaging_fails_the_plan" {
  command = plan
  variables {
    bundle_dir = "tests/fixtures/stale-zip"
  }
  expect_failures = [google_storage_bucket_object.source]
}

# Defect 6: the error alert reads hookline's structured severity; run outcomes alert.
run "alerts_read_the_structured_lines" {
  command = plan
  assert {
    condition     = strcontains(google_logging_metric.pipeline_errors[0].filter, "severity>=ERROR") && strcontains(google_logging_metric.pipeline_errors[0].filter, "jsonPayload.logger")
    error_message = "the error metric counts hookline's own JSON lines at ERROR and above"
  }
  assert {
    condition     = strcontains(google_logging_metric.runs[0].filter, "jsonPayload.event=\"run_finished\"") && google_logging_metric.runs[0].label_extractors["status"] == "EXTRACT(jsonPayload.status)"
    error_message = "run outcomes are a log-based metric on run_finished lines, by status"
  }
  assert {
    condition     = google_logging_metric.run_seconds[0].value_extractor == "EXTRACT(jsonPayload.seconds)"
    error_message = "run durations are a distribution"
  }
  assert {
    condition     = strcontains(google_monitoring_alert_policy.runs["train-failed"].conditions[0].condition_threshold[0].filter, "metric.label.status=\"failed\"") && contains(keys(google_monitoring_alert_policy.runs), "train-rejected")
    error_message = "failed and rejected runs alert"
  }
  assert {
    condition     = strcontains(google_monitoring_alert_policy.no_training["train"].conditions[0].condition_prometheus_query_language[0].query, "[7d]")
    error_message = "no successful run in 7 days alerts"
  }
}

# Issues 12 and 15: key secrets reach exactly the functions that need them.
run "signing_and_admin_keys_reach_the_right_functions" {
  command = plan
  variables {
    create_signing_key_secret = true
    admin_keys_secret_id      = "existing-admin-keys"
  }
  assert {
    condition     = google_cloudfunctions2_function.pipeline[0].service_config[0].environment_variables["HOOKLINE_SIGNING_KEY_SECRET"] == "projects/hookline-test/secrets/hookline-test-registry-signing-key/versions/latest"
    error_message = "the pipeline gets the signing key reference"
  }
  assert {
    condition     = !contains(keys(google_cloudfunctions2_function.pipeline[0].service_config[0].environment_variables), "HOOKLINE_ADMIN_KEYS_SECRET") && google_cloudfunctions2_function.serving[0].service_config[0].environment_variables["HOOKLINE_ADMIN_KEYS_SECRET"] == "projects/hookline-test/secrets/existing-admin-keys/versions/latest"
    error_message = "only serving gets the admin keys"
  }
  assert {
    condition     = keys(google_secret_manager_secret.keys) == ["signing_key"] && toset(keys(google_secret_manager_secret_iam_member.keys)) == toset(["signing_key-pipeline", "signing_key-serving", "admin_keys-serving"])
    error_message = "one secret created; readers are exactly the functions that need each secret"
  }
}
