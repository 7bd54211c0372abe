# Offline plans of the AWS module against the schema of the pinned aws provider (mocked: no
# credentials, no network). Each run would have caught one of the deploy defects of issue 14.
# A bad zip bundle stops the plan at its upload (aws_s3_object.bundle), before any function.

mock_provider "aws" {
  mock_data "aws_caller_identity" {
    defaults = { account_id = "123456789012" }
  }
  mock_data "aws_partition" {
    defaults = { partition = "aws" }
  }
}

variables {
  name        = "hookline-test"
  bucket_name = "hookline-test-bucket"
  bundle_dir  = "tests/fixtures/ok"
  pipelines = {
    train = { prefix = "landing/train/", suffix = ".csv" }
  }
}

# Defect 1: runtime, architecture, handler and hash come from the manifests, not from inputs.
run "functions_run_what_the_manifests_say" {
  command = plan

  assert {
    condition     = aws_lambda_function.pipeline[0].runtime == "python3.12" && aws_lambda_function.serving[0].runtime == "python3.12"
    error_message = "the runtime must be the manifest's"
  }
  assert {
    condition     = aws_lambda_function.pipeline[0].handler == "pipeline.handler" && aws_lambda_function.serving[0].handler == "serving.handler"
    error_message = "the handler must be the manifest's"
  }
  assert {
    condition     = aws_lambda_function.pipeline[0].architectures == tolist(["x86_64"])
    error_message = "the architecture must be the manifest's"
  }
  assert {
    condition     = aws_lambda_function.pipeline[0].source_code_hash == jsondecode(file("tests/fixtures/ok/pipeline.manifest.json")).sha256_base64
    error_message = "source_code_hash must be the manifest's sha256_base64"
  }
}

run "an_arm64_bundle_deploys_on_arm64" {
  command = plan
  variables {
    bundle_dir = "tests/fixtures/arm64"
  }
  assert {
    condition     = aws_lambda_function.pipeline[0].architectures == tolist(["arm64"]) && aws_lambda_function.serving[0].architectures == tolist(["arm64"])
    error_message = "an arm64 bundle must deploy as arm64"
  }
}

run "a_bundle_for_an_unsupported_python_fails_the_plan" {
  command = plan
  variables {
    bundle_dir = "tests/fixtures/python-3.10"
  }
  expect_failures = [aws_s3_object.bundle]
}

run "runtime_and_python_that_disagree_fail_the_plan" {
  command = plan
  variables {
    bundle_dir = "tests/fixtures/runtime-mismatch"
  }
  expect_failures = [aws_s3_object.bundle]
}

run "an_unknown_architecture_fails_the_plan" {
  command = plan
  variables {
    bundle_dir = "tests/fixtures/arch-aarch64"
  }
  expect_failures = [aws_s3_object.bundle]
}

run "a_bundle_for_another_cloud_fails_the_plan" {
  command = plan
  variables {
    bundle_dir = "tests/fixtures/other-cloud"
  }
  expect_failures = [aws_s3_object.bundle]
}

run "an_archive_changed_after_packaging_fails_the_plan" {
  command = plan
  variables {
    bundle_dir = "tests/fixtures/stale-zip"
  }
  expect_failures = [aws_s3_object.bundle]
}

run "a_missing_bundle_fails_the_plan_with_the_command_to_run" {
  command = plan
  variables {
    bundle_dir = "tests/fixtures/does-not-exist"
  }
  expect_failures = [aws_lambda_function.pipeline, aws_lambda_function.serving]
}

# Defect 2: the zips go through S3 (over the 50 MB direct-upload limit), never `filename`.
run "zips_are_uploaded_through_a_versioned_encrypted_bucket" {
  command = plan

  assert {
    condition     = aws_lambda_function.pipeline[0].filename == null && aws_lambda_function.serving[0].filename == null
    error_message = "functions must not upload their code directly"
  }
  assert {
    condition     = aws_lambda_function.pipeline[0].s3_bucket == "hookline-test-bucket-artifacts" && aws_lambda_function.pipeline[0].s3_key == aws_s3_object.bundle["pipeline"].key
    error_message = "the pipeline function must run the uploaded object"
  }
  assert {
    condition     = endswith(aws_s3_object.bundle["serving"].key, "/serving-${jsondecode(file("tests/fixtures/ok/serving.manifest.json")).sha256}.zip")
    error_message = "objects are content-addressed"
  }
  assert {
    condition     = aws_s3_bucket_versioning.artifacts[0].versioning_configuration[0].status == "Enabled"
    error_message = "the artifacts bucket is versioned"
  }
  assert {
    condition     = one(aws_s3_bucket_server_side_encryption_configuration.artifacts[0].rule).apply_server_side_encryption_by_default[0].sse_algorithm == "AES256"
    error_message = "the artifacts bucket is encrypted"
  }
  assert {
    condition     = aws_s3_bucket_public_access_block.artifacts[0].restrict_public_buckets
    error_message = "the artifacts bucket is private"
  }
}

run "a_caller_provided_artifacts_bucket_is_used_as_is" {
  command = plan
  variables {
    artifacts_bucket = "my-deployments"
  }
  assert {
    condition     = length(aws_s3_bucket.artifacts) == 0 && aws_s3_object.bundle["pipeline"].bucket == "my-deployments"
    error_message = "a caller-provided bucket must be used and no bucket created"
  }
}

# Container images by digest.
run "image_bundles_deploy_by_digest" {
  command = plan
  variables {
    bundle_dir           = "tests/fixtures/image"
    image_repository_url = "123456789012.dkr.ecr.eu-west-1.amazonaws.com/hookline"
  }
  assert {
    condition     = aws_lambda_function.pipeline[0].package_type == "Image" && aws_lambda_function.pipeline[0].image_uri == "123456789012.dkr.ecr.eu-west-1.amazonaws.com/hookline@${jsondecode(file("tests/fixtures/image/pipeline.manifest.json")).image.digest}"
    error_message = "an image bundle runs <repository>@<digest>"
  }
  assert {
    condition     = aws_lambda_function.pipeline[0].runtime == null && aws_lambda_function.pipeline[0].handler == null && aws_lambda_function.pipeline[0].image_config[0].command == tolist(["pipeline.handler"])
    error_message = "an image has no runtime or handler setting; its command is the manifest's handler"
  }
  assert {
    condition     = length(aws_s3_object.bundle) == 0
    error_message = "nothing is uploaded for images"
  }
}

run "an_image_bundle_without_a_repository_fails_the_plan" {
  command = plan
  variables {
    bundle_dir = "tests/fixtures/image"
  }
  expect_failures = [aws_lambda_function.pipeline, aws_lambda_function.serving]
}

# Defect 3: a Function URL needs lambda:InvokeFunctionUrl and lambda:InvokeFunction.
run "a_public_url_grants_both_invoke_actions" {
  command = plan
  variables {
    serving_auth_type = "NONE"
  }
  assert {
    condition     = aws_lambda_permission.serving_public_url[0].action == "lambda:InvokeFunctionUrl" && aws_lambda_permission.serving_public_url[0].function_url_auth_type == "NONE"
    error_message = "the public URL permission"
  }
  assert {
    condition     = aws_lambda_permission.serving_public_invoke[0].action == "lambda:InvokeFunction" && aws_lambda_permission.serving_public_invoke[0].invoked_via_function_url == true
    error_message = "the public invoke permission, through the URL only"
  }
}

run "the_caller_policy_grants_both_invoke_actions" {
  command = plan
  assert {
    condition = toset(flatten([for s in data.aws_iam_policy_document.serving_invoke[0].statement : s.actions])) == toset([
      "lambda:InvokeFunctionUrl", "lambda:InvokeFunction",
    ])
    error_message = "callers of an AWS_IAM URL need both actions"
  }
  assert {
    condition     = length(aws_lambda_permission.serving_public_url) == 0 && length(aws_lambda_permission.serving_public_invoke) == 0
    error_message = "no public permission unless serving_auth_type is NONE"
  }
}

# Defect 6: JSON logs at INFO, and alarms on run outcomes.
run "functions_log_json_at_info" {
  command = plan
  assert {
    condition = alltrue([for f in [aws_lambda_function.pipeline[0], aws_lambda_function.serving[0]] :
    f.logging_config[0].log_format == "JSON" && f.logging_config[0].application_log_level == "INFO" && f.logging_config[0].system_log_level == "INFO"])
    error_message = "Lambda drops INFO lines unless a level is configured"
  }
}

run "run_outcomes_alarm" {
  command = plan
  variables {
    schedules = { nightly = "rate(1 day)" }
  }
  assert {
    condition     = aws_cloudwatch_metric_alarm.run_failed["train"].metric_name == "RunFailed" && aws_cloudwatch_metric_alarm.run_failed["train"].namespace == "hookline" && aws_cloudwatch_metric_alarm.run_failed["train"].dimensions == tomap({ Project = "quickstart", Pipeline = "train" })
    error_message = "failed runs alarm per pipeline, on the project the bundle manifest names"
  }
  assert {
    condition     = aws_cloudwatch_metric_alarm.run_rejected["nightly"].metric_name == "RunRejected"
    error_message = "rejected runs alarm (scheduled pipelines too)"
  }
  assert {
    condition     = aws_cloudwatch_metric_alarm.no_training["train"].metric_name == "RunSucceeded" && aws_cloudwatch_metric_alarm.no_training["train"].evaluation_periods == 7 && aws_cloudwatch_metric_alarm.no_training["train"].treat_missing_data == "breaching"
    error_message = "no successful run for 7 days alarms"
  }
}

run "the_training_alarm_can_be_turned_off" {
  command = plan
  variables {
    max_days_without_training = 0
    alarm_on_rejected_runs    = false
  }
  assert {
    condition     = length(aws_cloudwatch_metric_alarm.no_training) == 0 && length(aws_cloudwatch_metric_alarm.run_rejected) == 0 && length(aws_cloudwatch_metric_alarm.run_failed) == 1
    error_message = "0 disables the training alarm; the failure alarm stays"
  }
}

# Issues 12 and 15: the signing key and administration keys reach exactly the functions that
# need them, with read access to exactly those secrets.
run "signing_and_admin_keys_reach_the_right_functions" {
  command = plan
  variables {
    signing_key_secret_arn   = "arn:aws:secretsmanager:eu-west-1:123456789012:secret:hookline/signing-AbCdEf"
    create_admin_keys_secret = true
  }
  assert {
    condition     = aws_lambda_function.pipeline[0].environment[0].variables["HOOKLINE_SIGNING_KEY_SECRET"] == var.signing_key_secret_arn && aws_lambda_function.serving[0].environment[0].variables["HOOKLINE_SIGNING_KEY_SECRET"] == var.signing_key_secret_arn
    error_message = "both functions get the signing key reference"
  }
  assert {
    condition     = !contains(keys(aws_lambda_function.pipeline[0].environment[0].variables), "HOOKLINE_ADMIN_KEYS_SECRET") && contains(keys(aws_lambda_function.serving[0].environment[0].variables), "HOOKLINE_ADMIN_KEYS_SECRET")
    error_message = "only the serving function gets the admin keys"
  }
  assert {
    condition     = length(aws_secretsmanager_secret.admin_keys) == 1 && length(aws_secretsmanager_secret.signing_key) == 0
    error_message = "the admin keys secret is created, the given signing key secret is not"
  }
  assert {
    condition     = [for s in data.aws_iam_policy_document.pipeline.statement : s.resources if s.sid == "ReadSigningKey"] == [toset([var.signing_key_secret_arn])]
    error_message = "the pipeline role reads exactly the signing key"
  }
  assert {
    condition     = length([for s in data.aws_iam_policy_document.pipeline.statement : s if s.sid == "ReadAdminKeys" || s.sid == "ReadApiKeys"]) == 0
    error_message = "the pipeline role reads no other secret"
  }
}

run "no_key_secrets_by_default" {
  command = plan
  assert {
    condition     = !contains(keys(aws_lambda_function.serving[0].environment[0].variables), "HOOKLINE_SIGNING_KEY_SECRET") && length(aws_secretsmanager_secret.signing_key) == 0
    error_message = "signing is opt-in"
  }
}

run "hybrid_serving_only_reads_only_the_serving_manifest" {
  command = plan
  variables {
    enable_pipeline = false
    bundle_dir      = "tests/fixtures/ok"
  }
  assert {
    condition     = length(aws_lambda_function.pipeline) == 0 && keys(aws_s3_object.bundle) == ["serving"]
    error_message = "only the serving bundle is deployed"
  }
}
