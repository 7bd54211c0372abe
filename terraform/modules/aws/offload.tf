# Run offload (docs/scaling.md), when enable_offload is true: a run that outgrows the pipeline
# function is handed to a job that runs `hookline job run` from the job image.
#
#   ECR repository  <- `hookline package --cloud aws --format image` writes job.oci.tar and
#                      job.manifest.json; push the archive here (skopeo copy)
#   aws-batch:  Fargate compute environment -> job queue -> job definition (the image by the
#               manifest's digest, HOOKLINE_IMAGE_DIGEST from the same manifest)
#   sagemaker:  the same image as a training image; the function passes the job role
#   EventBridge: Batch / SageMaker job-state changes of hookline's jobs -> pipeline function
#   Scheduler:  {"source":"hookline.reconcile"} every offload_reconcile_schedule -> pipeline
#
# The pipeline function may submit, describe and stop exactly these jobs, and pass exactly the
# job role, to exactly SageMaker.

locals {
  offload       = var.enable_offload && var.enable_pipeline
  offload_batch = local.offload && var.offload_backend == "aws-batch"
  offload_sm    = local.offload && var.offload_backend == "sagemaker"

  job_manifest_file = "${var.bundle_dir}/job.manifest.json"
  job_manifests = { for f in(local.offload ? [local.job_manifest_file] : []) : "job" => try(jsondecode(file(f)), {
    error = "cannot read ${f}: run `hookline package --cloud aws --format image --base ...` (it writes the job image beside the pipeline image)"
  }) }
  job_manifest = try(local.job_manifests.job, {})
  job_digest   = try(local.job_manifest.image.digest, "")
  job_image_problems = compact([
    try(local.job_manifest.error, ""),
    try(local.job_manifest.role, "") == "job" ? "" : "${local.job_manifest_file}: role is \"${try(local.job_manifest.role, "")}\", expected \"job\"",
    try(local.job_manifest.cloud, "") == "aws" ? "" : "${local.job_manifest_file}: built for cloud \"${try(local.job_manifest.cloud, "")}\", not aws",
    can(regex("^sha256:[0-9a-f]{64}$", local.job_digest)) ? "" : "${local.job_manifest_file}: no image.digest (sha256:<64 hex>)",
  ])
  job_repository_name = coalesce(var.offload_image_repository_name, "${var.name}-jobs")
  job_image           = local.offload ? "${aws_ecr_repository.jobs[0].repository_url}@${local.job_digest}" : ""
  job_architecture    = try(local.job_manifest.architecture, "x86_64") == "arm64" ? "ARM64" : "X86_64"
  job_log_group       = "/aws/batch/${var.name}"
  job_environment = merge(
    local.function_environment.pipeline,
    { HOOKLINE_IMAGE_DIGEST = local.job_digest },
  )
  batch_job_arns  = "arn:${local.partition}:batch:${local.offload_region}:${local.account_id}:job/*"
  sagemaker_jobs  = "arn:${local.partition}:sagemaker:${local.offload_region}:${local.account_id}:training-job/hl-*"
  reconcile_input = jsonencode({ source = "hookline.reconcile" })
  # The region's name is also the data source's id: used when region is null (the schema
  # of the lowest pinned provider, 6.40, does not mark region as computed).
  offload_region = local.offload ? coalesce(data.aws_region.offload[0].region, data.aws_region.offload[0].id) : ""
}

data "aws_region" "offload" {
  count = local.offload ? 1 : 0
}

# --- the job image repository ------------------------------------------------------------

resource "aws_ecr_repository" "jobs" {
  count = local.offload ? 1 : 0

  name                 = local.job_repository_name
  image_tag_mutability = "IMMUTABLE"
  force_delete         = false
  tags                 = var.tags

  image_scanning_configuration {
    scan_on_push = true
  }

  encryption_configuration {
    encryption_type = var.kms_key_arn == null ? "AES256" : "KMS"
    kms_key         = var.kms_key_arn
  }
}

resource "aws_ecr_lifecycle_policy" "jobs" {
  count = local.offload ? 1 : 0

  repository = aws_ecr_repository.jobs[0].name
  policy = jsonencode({
    rules = [{
      rulePriority = 1
      description  = "keep the 20 newest job images"
      selection    = { tagStatus = "any", countType = "imageCountMoreThan", countNumber = 20 }
      action       = { type = "expire" }
    }]
  })
}

# --- roles of the job ----------------------------------------------------------------------

data "aws_iam_policy_document" "job_assume" {
  count = local.offload ? 1 : 0

  statement {
    actions = ["sts:AssumeRole"]
    principals {
      type        = "Service"
      identifiers = [var.offload_backend == "sagemaker" ? "sagemaker.amazonaws.com" : "ecs-tasks.amazonaws.com"]
    }
    condition {
      test     = "StringEquals"
      variable = "aws:SourceAccount"
      values   = [local.account_id]
    }
  }
}

# What the job itself does: exactly what the pipeline function does with the storage root.
data "aws_iam_policy_document" "job" {
  count = local.offload ? 1 : 0

  statement {
    sid       = "ReadInputsAndOwnOutputs"
    actions   = ["s3:GetObject", "s3:GetObjectVersion"]
    resources = local.read_objects
  }

  statement {
    sid       = "WriteOnlyFrameworkPrefixes"
    actions   = ["s3:PutObject", "s3:DeleteObject", "s3:AbortMultipartUpload"]
    resources = local.write_objects
  }

  statement {
    sid       = "ListKeyNames"
    actions   = ["s3:ListBucket", "s3:ListBucketVersions"]
    resources = [local.bucket_arn]
  }

  dynamic "statement" {
    for_each = local.signing_key ? [local.signing_key_secret_arn] : []
    content {
      sid       = "ReadSigningKey"
      actions   = ["secretsmanager:GetSecretValue"]
      resources = [statement.value]
    }
  }

  dynamic "statement" {
    for_each = var.kms_key_arn == null ? [] : [var.kms_key_arn]
    content {
      sid       = "UseStorageKey"
      actions   = ["kms:Decrypt", "kms:GenerateDataKey"]
      resources = [statement.value]
    }
  }

  # SageMaker runs the container itself: it pulls the image and writes the logs as this role.
  dynamic "statement" {
    for_each = var.offload_backend == "sagemaker" ? [1] : []
    content {
      sid       = "PullJobImage"
      actions   = ["ecr:BatchGetImage", "ecr:GetDownloadUrlForLayer", "ecr:BatchCheckLayerAvailability"]
      resources = aws_ecr_repository.jobs[*].arn
    }
  }

  dynamic "statement" {
    for_each = var.offload_backend == "sagemaker" ? [1] : []
    content {
      sid       = "SageMakerLogs"
      actions   = ["logs:CreateLogGroup", "logs:CreateLogStream", "logs:PutLogEvents", "logs:DescribeLogStreams"]
      resources = ["arn:${local.partition}:logs:*:${local.account_id}:log-group:/aws/sagemaker/TrainingJobs:*"]
    }
  }

  # ecr:GetAuthorizationToken has no resource-level permissions: it only accepts "*".
  dynamic "statement" {
    for_each = var.offload_backend == "sagemaker" ? [1] : []
    content {
      sid       = "RegistryLogin"
      actions   = ["ecr:GetAuthorizationToken"]
      resources = ["*"]
    }
  }
}

resource "aws_iam_role" "job" {
  count = local.offload ? 1 : 0

  name               = "${var.name}-job"
  assume_role_policy = data.aws_iam_policy_document.job_assume[0].json
  tags               = var.tags
}

resource "aws_iam_role_policy" "job" {
  count = local.offload ? 1 : 0

  name   = "hookline-job"
  role   = aws_iam_role.job[0].id
  policy = data.aws_iam_policy_document.job[0].json
}

# Batch (Fargate): ECS pulls the image and ships the logs with the execution role.
data "aws_iam_policy_document" "job_execution_assume" {
  count = local.offload ? 1 : 0

  statement {
    actions = ["sts:AssumeRole"]
    principals {
      type        = "Service"
      identifiers = ["ecs-tasks.amazonaws.com"]
    }
    condition {
      test     = "StringEquals"
      variable = "aws:SourceAccount"
      values   = [local.account_id]
    }
  }
}

data "aws_iam_policy_document" "job_execution" {
  count = local.offload ? 1 : 0

  statement {
    sid       = "PullJobImage"
    actions   = ["ecr:BatchGetImage", "ecr:GetDownloadUrlForLayer", "ecr:BatchCheckLayerAvailability"]
    resources = aws_ecr_repository.jobs[*].arn
  }

  # ecr:GetAuthorizationToken has no resource-level permissions: it only accepts "*".
  statement {
    sid       = "RegistryLogin"
    actions   = ["ecr:GetAuthorizationToken"]
    resources = ["*"]
  }

  statement {
    sid       = "JobLogs"
    actions   = ["logs:CreateLogStream", "logs:PutLogEvents"]
    resources = ["arn:${local.partition}:logs:*:${local.account_id}:log-group:${local.job_log_group}:*"]
  }
}

resource "aws_iam_role" "job_execution" {
  count = local.offload_batch ? 1 : 0

  name               = "${var.name}-job-execution"
  assume_role_policy = data.aws_iam_policy_document.job_execution_assume[0].json
  tags               = var.tags
}

resource "aws_iam_role_policy" "job_execution" {
  count = local.offload_batch ? 1 : 0

  name   = "hookline-job-execution"
  role   = aws_iam_role.job_execution[0].id
  policy = data.aws_iam_policy_document.job_execution[0].json
}

# --- AWS Batch on Fargate ------------------------------------------------------------------

resource "aws_cloudwatch_log_group" "jobs" {
  count = local.offload_batch ? 1 : 0
  #checkov:skip=CKV_AWS_338:Retention is the operator's choice (log_retention_days); run records in the bucket are the durable history.
  #checkov:skip=CKV_AWS_158:CloudWatch Logs encrypts at rest by default; set kms_key_arn for a customer-managed key.

  name              = local.job_log_group
  retention_in_days = var.log_retention_days
  kms_key_id        = var.kms_key_arn
  tags              = var.tags
}

resource "aws_batch_compute_environment" "jobs" {
  count = local.offload_batch ? 1 : 0

  name  = "${var.name}-jobs"
  type  = "MANAGED"
  state = "ENABLED"
  tags  = var.tags

  compute_resources {
    type               = "FARGATE"
    max_vcpus          = var.offload_max_vcpus
    subnets            = var.offload_subnet_ids
    security_group_ids = var.offload_security_group_ids
  }

  lifecycle {
    precondition {
      condition     = length(var.offload_subnet_ids) > 0 && length(var.offload_security_group_ids) > 0
      error_message = "offload_backend \"aws-batch\" runs Fargate tasks: set offload_subnet_ids and offload_security_group_ids (subnets with a route to S3, ECR and CloudWatch Logs)."
    }
  }
}

resource "aws_batch_job_queue" "jobs" {
  count = local.offload_batch ? 1 : 0

  name     = "${var.name}-jobs"
  state    = "ENABLED"
  priority = 1
  tags     = var.tags

  compute_environment_order {
    order               = 1
    compute_environment = aws_batch_compute_environment.jobs[0].arn
  }
}

resource "aws_batch_job_definition" "train" {
  count = local.offload_batch ? 1 : 0

  name                  = "${var.name}-job"
  type                  = "container"
  platform_capabilities = ["FARGATE"]
  propagate_tags        = true
  tags                  = var.tags

  # The image's entry point is `python3 -m hookline job run`; the run comes in the
  # environment of each submission (HOOKLINE_RUN_ID, HOOKLINE_ATTEMPT, HOOKLINE_JOB_NAME).
  container_properties = jsonencode({
    image            = local.job_image
    executionRoleArn = aws_iam_role.job_execution[0].arn
    jobRoleArn       = aws_iam_role.job[0].arn
    resourceRequirements = [
      { type = "VCPU", value = tostring(var.offload_vcpus) },
      { type = "MEMORY", value = tostring(var.offload_memory_mib) },
    ]
    environment                  = [for k in sort(keys(local.job_environment)) : { name = k, value = local.job_environment[k] }]
    runtimePlatform              = { operatingSystemFamily = "LINUX", cpuArchitecture = local.job_architecture }
    fargatePlatformConfiguration = { platformVersion = "LATEST" }
    networkConfiguration         = { assignPublicIp = var.offload_assign_public_ip ? "ENABLED" : "DISABLED" }
    logConfiguration = {
      logDriver = "awslogs"
      options = {
        "awslogs-group"         = local.job_log_group
        "awslogs-region"        = local.offload_region
        "awslogs-stream-prefix" = "hookline"
      }
    }
  })

  # hookline counts attempts itself (the [compute] table's max_attempts).
  retry_strategy {
    attempts = 1
  }

  timeout {
    attempt_duration_seconds = var.offload_max_runtime_seconds
  }

  lifecycle {
    precondition {
      condition     = length(local.job_image_problems) == 0
      error_message = "The job image cannot be deployed:\n  - ${join("\n  - ", local.job_image_problems)}"
    }
  }
}

# --- what the pipeline function may do ----------------------------------------------------

data "aws_iam_policy_document" "pipeline_offload" {
  count = local.offload ? 1 : 0

  dynamic "statement" {
    for_each = local.offload_batch ? [1] : []
    content {
      sid     = "SubmitJobs"
      actions = ["batch:SubmitJob", "batch:TagResource"]
      resources = [
        aws_batch_job_queue.jobs[0].arn,
        "arn:${local.partition}:batch:${local.offload_region}:${local.account_id}:job-definition/${aws_batch_job_definition.train[0].name}:*",
        local.batch_job_arns,
      ]
    }
  }

  dynamic "statement" {
    for_each = local.offload_batch ? [1] : []
    content {
      sid       = "StopJobs"
      actions   = ["batch:TerminateJob"]
      resources = [local.batch_job_arns]
    }
  }

  # DescribeJobs and ListJobs have no resource-level permissions: they only accept "*".
  dynamic "statement" {
    for_each = local.offload_batch ? [1] : []
    content {
      sid       = "ReadJobs"
      actions   = ["batch:DescribeJobs", "batch:ListJobs"]
      resources = ["*"]
    }
  }

  dynamic "statement" {
    for_each = local.offload_sm ? [1] : []
    content {
      sid = "TrainingJobs"
      actions = [
        "sagemaker:CreateTrainingJob",
        "sagemaker:AddTags",
        "sagemaker:DescribeTrainingJob",
        "sagemaker:StopTrainingJob",
      ]
      resources = [local.sagemaker_jobs]
    }
  }

  # The one role the function hands over, and only to SageMaker.
  dynamic "statement" {
    for_each = local.offload_sm ? [1] : []
    content {
      sid       = "PassJobRole"
      actions   = ["iam:PassRole"]
      resources = [aws_iam_role.job[0].arn]
      condition {
        test     = "StringEquals"
        variable = "iam:PassedToService"
        values   = ["sagemaker.amazonaws.com"]
      }
    }
  }
}

resource "aws_iam_role_policy" "pipeline_offload" {
  count = local.offload ? 1 : 0

  name   = "hookline-pipeline-offload"
  role   = aws_iam_role.pipeline[0].id
  policy = data.aws_iam_policy_document.pipeline_offload[0].json
}

# --- job-state events -> the pipeline function ---------------------------------------------

resource "aws_cloudwatch_event_rule" "job_state" {
  count = local.offload ? 1 : 0

  name        = substr("${var.name}-job-state", 0, 64)
  description = "hookline: terminal states of offloaded runs' jobs, to the pipeline function"
  event_pattern = local.offload_batch ? jsonencode({
    source        = ["aws.batch"]
    "detail-type" = ["Batch Job State Change"]
    detail = {
      status   = ["SUCCEEDED", "FAILED"]
      jobQueue = [aws_batch_job_queue.jobs[0].arn]
    }
    }) : jsonencode({
    source        = ["aws.sagemaker"]
    "detail-type" = ["SageMaker Training Job State Change"]
    detail = {
      TrainingJobStatus = ["Completed", "Failed", "Stopped"]
      TrainingJobName   = [{ prefix = "hl-" }]
    }
  })
  tags = var.tags
}

resource "aws_lambda_permission" "job_state" {
  count = local.offload ? 1 : 0

  statement_id  = "AllowJobStateEvents"
  action        = "lambda:InvokeFunction"
  function_name = aws_lambda_function.pipeline[0].function_name
  principal     = "events.amazonaws.com"
  source_arn    = aws_cloudwatch_event_rule.job_state[0].arn
}

resource "aws_cloudwatch_event_target" "job_state" {
  count = local.offload ? 1 : 0

  rule = aws_cloudwatch_event_rule.job_state[0].name
  arn  = aws_lambda_function.pipeline[0].arn

  retry_policy {
    maximum_event_age_in_seconds = var.max_event_age_seconds
    maximum_retry_attempts       = 185
  }

  dead_letter_config {
    arn = aws_sqs_queue.failures[0].arn
  }

  depends_on = [aws_lambda_permission.job_state]
}

# --- the reconciler's schedule -------------------------------------------------------------

data "aws_iam_policy_document" "reconciler" {
  count = local.offload ? 1 : 0

  statement {
    sid       = "InvokePipeline"
    actions   = ["lambda:InvokeFunction"]
    resources = [aws_lambda_function.pipeline[0].arn, "${aws_lambda_function.pipeline[0].arn}:*"]
  }

  statement {
    sid       = "DeadLetter"
    actions   = ["sqs:SendMessage"]
    resources = [aws_sqs_queue.failures[0].arn]
  }
}

resource "aws_iam_role" "reconciler" {
  count = local.offload ? 1 : 0

  name               = "${var.name}-reconciler"
  assume_role_policy = data.aws_iam_policy_document.scheduler_assume.json
  tags               = var.tags
}

resource "aws_iam_role_policy" "reconciler" {
  count = local.offload ? 1 : 0

  name   = "hookline-reconciler"
  role   = aws_iam_role.reconciler[0].id
  policy = data.aws_iam_policy_document.reconciler[0].json
}

resource "aws_scheduler_schedule" "reconcile" {
  count = local.offload ? 1 : 0

  name                = substr("${var.name}-reconcile", 0, 64)
  description         = "hookline: the run-offload reconciler"
  schedule_expression = var.offload_reconcile_schedule
  kms_key_arn         = var.kms_key_arn

  flexible_time_window {
    mode = "OFF"
  }

  target {
    arn      = aws_lambda_function.pipeline[0].arn
    role_arn = aws_iam_role.reconciler[0].arn
    input    = local.reconcile_input

    retry_policy {
      maximum_event_age_in_seconds = var.max_event_age_seconds
      maximum_retry_attempts       = var.max_retry_attempts
    }

    dead_letter_config {
      arn = aws_sqs_queue.failures[0].arn
    }
  }

  depends_on = [aws_iam_role_policy.reconciler]
}
