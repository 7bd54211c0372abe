# Offline plans of run offload on AWS (offload*.tf) against the pinned aws provider's schema
# (mocked: no credentials, no network). The job image comes from the image bundle fixtures'
# job.manifest.json; computed ARNs and URLs are given by the mocks at plan time.

mock_provider "aws" {
  mock_data "aws_caller_identity" {
    defaults = { account_id = "123456789012" }
  }
  mock_data "aws_partition" {
    defaults = { partition = "aws" }
  }
  mock_data "aws_region" {
    override_during = plan
    defaults        = { region = "eu-west-1", id = "eu-west-1" }
  }
  mock_resource "aws_ecr_repository" {
    override_during = plan
    defaults = {
      arn            = "arn:aws:ecr:eu-west-1:123456789012:repository/hookline-test-jobs"
      repository_url = "123456789012.dkr.ecr.eu-west-1.amazonaws.com/hookline-test-jobs"
    }
  }
  mock_resource "aws_iam_role" {
    override_during = plan
    defaults        = { arn = "arn:aws:iam::123456789012:role/hookline-test-mocked" }
  }
  mock_resource "aws_batch_job_queue" {
    override_during = plan
    defaults        = { arn = "arn:aws:batch:eu-west-1:123456789012:job-queue/hookline-test-jobs" }
  }
}

variables {
  name                       = "hookline-test"
  bucket_name                = "hookline-test-bucket"
  bundle_dir                 = "tests/fixtures/image"
  image_repository_url       = "123456789012.dkr.ecr.eu-west-1.amazonaws.com/hookline"
  enable_offload             = true
  offload_subnet_ids         = ["subnet-0a1b2c3d"]
  offload_security_group_ids = ["sg-0a1b2c3d"]
  pipelines = {
    train = { prefix = "landing/train/", suffix = ".csv" }
  }
}

run "the_job_definition_runs_the_job_image_by_the_manifest_s_digest" {
  command = plan

  assert {
    condition     = jsondecode(aws_batch_job_definition.train[0].container_properties).image == "123456789012.dkr.ecr.eu-west-1.amazonaws.com/hookline-test-jobs@${jsondecode(file("tests/fixtures/image/job.manifest.json")).image.digest}"
    error_message = "the job runs <repository>@<job manifest digest>"
  }
  assert {
    condition     = contains(jsondecode(aws_batch_job_definition.train[0].container_properties).environment, { name = "HOOKLINE_IMAGE_DIGEST", value = jsondecode(file("tests/fixtures/image/job.manifest.json")).image.digest })
    error_message = "HOOKLINE_IMAGE_DIGEST must come from the same manifest as the image"
  }
  assert {
    condition     = aws_batch_job_definition.train[0].retry_strategy[0].attempts == 1 && aws_batch_job_definition.train[0].timeout[0].attempt_duration_seconds == 86400
    error_message = "hookline counts attempts; the platform enforces the time limit"
  }
  assert {
    condition     = aws_batch_compute_environment.jobs[0].compute_resources[0].type == "FARGATE" && aws_batch_job_definition.train[0].platform_capabilities == toset(["FARGATE"])
    error_message = "Batch jobs run on Fargate"
  }
  assert {
    condition     = aws_ecr_repository.jobs[0].image_tag_mutability == "IMMUTABLE" && aws_ecr_repository.jobs[0].image_scanning_configuration[0].scan_on_push
    error_message = "the job image repository is immutable and scanned"
  }
}

run "terminal_job_states_of_this_queue_reach_the_pipeline_function" {
  command = plan

  assert {
    condition     = jsondecode(aws_cloudwatch_event_rule.job_state[0].event_pattern).detail.jobQueue == ["arn:aws:batch:eu-west-1:123456789012:job-queue/hookline-test-jobs"]
    error_message = "only this queue's jobs"
  }
  assert {
    condition     = jsondecode(aws_cloudwatch_event_rule.job_state[0].event_pattern).detail.status == ["SUCCEEDED", "FAILED"]
    error_message = "terminal states only"
  }
  assert {
    condition     = aws_lambda_permission.job_state[0].principal == "events.amazonaws.com"
    error_message = "EventBridge invokes the pipeline"
  }
}

run "the_reconciler_schedule_sends_the_reconcile_payload" {
  command = plan

  assert {
    condition     = jsondecode(aws_scheduler_schedule.reconcile[0].target[0].input) == { source = "hookline.reconcile" }
    error_message = "the reconciler's payload is {\"source\": \"hookline.reconcile\"}"
  }
  assert {
    condition     = aws_scheduler_schedule.reconcile[0].schedule_expression == "rate(10 minutes)"
    error_message = "the default reconcile schedule"
  }
}

run "sagemaker_trains_on_the_same_image_and_the_function_passes_only_the_job_role" {
  command = plan
  variables {
    offload_backend = "sagemaker"
  }

  assert {
    condition     = length(aws_batch_job_definition.train) == 0 && length(aws_batch_compute_environment.jobs) == 0
    error_message = "no Batch resources for SageMaker"
  }
  assert {
    condition     = jsondecode(aws_cloudwatch_event_rule.job_state[0].event_pattern).detail.TrainingJobName == [{ prefix = "hl-" }]
    error_message = "only hookline's training jobs"
  }
  assert {
    condition     = length(aws_iam_role_policy.pipeline_offload) == 1 && length(aws_iam_role.job) == 1
    error_message = "the pipeline gets the offload policy; the job its role"
  }
  assert {
    condition     = one([for s in data.aws_iam_policy_document.pipeline_offload[0].statement : s if contains(s.actions, "iam:PassRole")]).resources == toset([aws_iam_role.job[0].arn])
    error_message = "the pipeline may pass exactly the job role"
  }
  assert {
    condition     = [for c in one([for s in data.aws_iam_policy_document.pipeline_offload[0].statement : s if contains(s.actions, "iam:PassRole")]).condition : "${c.test} ${c.variable} ${join(",", c.values)}"] == ["StringEquals iam:PassedToService sagemaker.amazonaws.com"]
    error_message = "the job role is passed only to SageMaker"
  }
  assert {
    condition     = alltrue([for s in data.aws_iam_policy_document.pipeline_offload[0].statement : s.resources == toset(["arn:aws:sagemaker:eu-west-1:123456789012:training-job/hl-*"]) if !contains(s.actions, "iam:PassRole")])
    error_message = "the training-job actions are limited to hookline's jobs (hl-*)"
  }
}

run "batch_grants_no_pass_role_and_no_wildcard_beyond_the_read_only_calls" {
  command = plan

  assert {
    condition     = !contains(flatten([for s in data.aws_iam_policy_document.pipeline_offload[0].statement : tolist(s.actions)]), "iam:PassRole")
    error_message = "Batch jobs carry their role in the job definition: the pipeline passes none"
  }
  assert {
    condition     = alltrue([for s in data.aws_iam_policy_document.pipeline_offload[0].statement : s.actions == toset(["batch:DescribeJobs", "batch:ListJobs"]) if contains(s.resources, "*")])
    error_message = "only DescribeJobs and ListJobs (no resource-level permissions) may use \"*\""
  }
  assert {
    condition     = alltrue([for s in data.aws_iam_policy_document.pipeline_offload[0].statement : alltrue([for a in s.actions : startswith(a, "batch:")])])
    error_message = "the pipeline's offload policy holds Batch actions only"
  }
}

run "batch_without_network_inputs_fails_the_plan" {
  command = plan
  variables {
    offload_subnet_ids = []
  }
  expect_failures = [aws_batch_compute_environment.jobs]
}

run "a_bundle_without_the_job_image_fails_the_plan" {
  command = plan
  variables {
    bundle_dir = "tests/fixtures/ok"
  }
  expect_failures = [aws_batch_job_definition.train]
}

run "offload_off_creates_nothing" {
  command = plan
  variables {
    enable_offload = false
  }

  assert {
    condition     = length(aws_ecr_repository.jobs) == 0 && length(aws_iam_role.job) == 0 && length(aws_scheduler_schedule.reconcile) == 0 && length(aws_cloudwatch_event_rule.job_state) == 0
    error_message = "enable_offload = false adds nothing"
  }
}
