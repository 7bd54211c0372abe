# Offline plans of run offload on GCP (offload*.tf) against the pinned google provider's schema
# (mocked).

mock_provider "google" {
  mock_data "google_storage_project_service_account" {
    defaults = { email_address = "service-123@gs-project-accounts.iam.gserviceaccount.com" }
  }
}
mock_provider "time" {}

variables {
  project_id     = "hookline-test"
  region         = "europe-west1"
  name           = "hookline-test"
  bucket_name    = "hookline-test-bucket"
  bundle_dir     = "tests/fixtures/ok"
  enable_offload = true
  offload_image  = "europe-west1-docker.pkg.dev/hookline-test/hookline-test-jobs/job@sha256:9a9a9a9a9a9a9a9a9a9a9a9a9a9a9a9a9a9a9a9a9a9a9a9a9a9a9a9a9a9a9a9a"
  pipelines = {
    train = { prefix = "landing/train/", suffix = ".csv" }
  }
}

run "the_cloud_run_job_runs_the_job_image_and_knows_its_digest" {
  command = plan

  assert {
    condition     = google_cloud_run_v2_job.train[0].template[0].template[0].containers[0].image == var.offload_image
    error_message = "the job runs the image by digest"
  }
  assert {
    condition     = contains([for e in google_cloud_run_v2_job.train[0].template[0].template[0].containers[0].env : "${e.name}=${e.value}"], "HOOKLINE_IMAGE_DIGEST=sha256:9a9a9a9a9a9a9a9a9a9a9a9a9a9a9a9a9a9a9a9a9a9a9a9a9a9a9a9a9a9a9a9a")
    error_message = "HOOKLINE_IMAGE_DIGEST is the image's digest"
  }
  assert {
    condition     = google_cloud_run_v2_job.train[0].template[0].template[0].max_retries == 0 && google_cloud_run_v2_job.train[0].template[0].task_count == 1
    error_message = "one task, no platform retries: hookline counts attempts"
  }
}

run "the_pipeline_may_run_the_job_with_overrides_and_nothing_more" {
  command = plan

  assert {
    condition = toset(google_project_iam_custom_role.dispatcher[0].permissions) == toset([
      "run.jobs.run", "run.jobs.runWithOverrides", "run.executions.get", "run.executions.list", "run.executions.cancel",
    ])
    error_message = "the dispatcher role grants exactly what dispatching needs"
  }
  assert {
    condition     = google_cloud_run_v2_job_iam_member.dispatcher[0].name == "hookline-test-job"
    error_message = "bound on the job, not the project"
  }
  assert {
    condition     = google_cloudfunctions2_function.pipeline[0].service_config[0].environment_variables["HOOKLINE_FUNCTION_TIMEOUT_SECONDS"] == "540"
    error_message = "the pipeline's lease ends at its deadline"
  }
}

run "the_reconciler_posts_its_cloudevent" {
  command = plan

  assert {
    condition     = google_cloud_scheduler_job.reconcile[0].http_target[0].headers["ce-type"] == "hookline.reconcile"
    error_message = "the reconciler's CloudEvent type"
  }
  assert {
    condition     = jsondecode(base64decode(google_cloud_scheduler_job.reconcile[0].http_target[0].body)) == { source = "hookline.reconcile" }
    error_message = "the reconciler's payload"
  }
}

run "offload_without_an_image_fails_the_plan" {
  command = plan
  variables {
    offload_image = null
  }
  expect_failures = [google_cloud_run_v2_job.train]
}

run "an_image_by_tag_is_refused" {
  command = plan
  variables {
    offload_image = "europe-west1-docker.pkg.dev/hookline-test/jobs/job:latest"
  }
  expect_failures = [var.offload_image]
}

run "offload_off_creates_nothing" {
  command = plan
  variables {
    enable_offload = false
  }

  assert {
    condition     = length(google_cloud_run_v2_job.train) == 0 && length(google_cloud_scheduler_job.reconcile) == 0 && length(google_service_account.job) == 0
    error_message = "enable_offload = false adds nothing"
  }
}
