# Offline tests of the provider-free module: names, prefixes, filters and payloads.
# Run with: terraform init -backend=false && terraform test

variables {
  cloud  = "aws"
  name   = "hookline-demo"
  bucket = "demo-bucket"
  pipelines = {
    train = { prefix = "landing/train/", suffix = ".csv" }
    score = { prefix = "landing/score/" }
  }
}

run "bucket_root_layout" {
  command = plan

  assert {
    condition     = output.storage_uri == "s3://demo-bucket"
    error_message = "storage_uri at the bucket's top level should be s3://demo-bucket, got ${output.storage_uri}"
  }
  assert {
    condition     = output.triggers.train.prefix == "landing/train/" && output.triggers.train.suffix == ".csv"
    error_message = "the train trigger should keep its prefix and suffix"
  }
  assert {
    condition     = output.triggers.score.suffix == ""
    error_message = "a pipeline without suffix should have an empty suffix filter"
  }
  assert {
    condition     = jsonencode(output.framework_prefixes) == jsonencode(["runs/", "registry/", "monitoring/"])
    error_message = "framework prefixes should be runs/, registry/, monitoring/"
  }
  assert {
    condition     = jsonencode(output.pipeline_read_prefixes) == jsonencode(["landing/score/", "landing/train/", "landing/predictions/", "runs/", "registry/", "monitoring/"])
    error_message = "pipeline reads: trigger prefixes, prediction logs and the framework prefixes; got ${jsonencode(output.pipeline_read_prefixes)}"
  }
  assert {
    condition     = jsonencode(output.serving_read_prefixes) == jsonencode(["registry/"]) && jsonencode(output.serving_write_prefixes) == jsonencode(["landing/predictions/"])
    error_message = "serving reads only registry/ and writes only landing/predictions/"
  }
  assert {
    condition     = output.environment == { HOOKLINE_STORAGE = "s3://demo-bucket" }
    error_message = "without config_uri and plugins only HOOKLINE_STORAGE is set"
  }
  assert {
    condition     = output.names.pipeline_function == "hookline-demo-pipeline" && output.names.serving_function == "hookline-demo-serving"
    error_message = "function names derive from var.name"
  }
  assert {
    condition     = length(output.names.gcp_trigger_sa) <= 30 && length(output.names.azure_host_storage) <= 24 && length(output.names.azure_key_vault) <= 24
    error_message = "names must fit GCP service account ids (30) and Azure global names (24)"
  }
}

run "eventbridge_patterns_match_prefix_and_suffix" {
  command = plan

  assert {
    condition = jsondecode(output.eventbridge_patterns.train) == {
      source        = ["aws.s3"]
      "detail-type" = ["Object Created"]
      detail = {
        bucket = { name = ["demo-bucket"] }
        object = { key = [{ wildcard = "landing/train/*.csv" }] }
      }
    }
    error_message = "a suffix filter becomes a wildcard key pattern: ${output.eventbridge_patterns.train}"
  }
  assert {
    condition     = jsondecode(output.eventbridge_patterns.score).detail.object.key == [{ prefix = "landing/score/" }]
    error_message = "a prefix-only filter becomes a prefix key pattern: ${output.eventbridge_patterns.score}"
  }
}

run "storage_prefix_is_prepended_everywhere" {
  command = plan

  variables {
    cloud          = "gcp"
    storage_prefix = "team-a/ml/"
    config_uri     = "gs://demo-bucket/team-a/hookline.toml"
    plugins        = ["pandas_ingest", "sklearn_train"]
  }

  assert {
    condition     = output.storage_uri == "gs://demo-bucket/team-a/ml"
    error_message = "storage_uri should carry the root prefix without a trailing slash, got ${output.storage_uri}"
  }
  assert {
    condition     = output.triggers.train.prefix == "team-a/ml/landing/train/"
    error_message = "trigger prefixes are bucket-absolute"
  }
  assert {
    condition     = jsonencode(output.framework_prefixes) == jsonencode(["team-a/ml/runs/", "team-a/ml/registry/", "team-a/ml/monitoring/"])
    error_message = "framework prefixes are bucket-absolute"
  }
  assert {
    condition     = output.environment.HOOKLINE_PLUGINS == "pandas_ingest,sklearn_train" && output.environment.HOOKLINE_CONFIG == "gs://demo-bucket/team-a/hookline.toml"
    error_message = "plugins are pinned comma-separated and config_uri is passed through"
  }
  assert {
    condition     = strcontains(output.gcs_conditions.serving_write, "resource.name.startsWith(\"projects/_/buckets/demo-bucket/objects/team-a/ml/landing/predictions/\")")
    error_message = "the serving write condition must name the prediction log prefix: ${output.gcs_conditions.serving_write}"
  }
  assert {
    condition     = !strcontains(output.gcs_conditions.pipeline_write, "landing/") && !strcontains(output.gcs_conditions.pipeline_write, "storage.googleapis.com/Bucket")
    error_message = "the pipeline may write only the framework prefixes: ${output.gcs_conditions.pipeline_write}"
  }
}

run "azure_filters_and_conditions" {
  command = plan

  variables {
    cloud     = "azure"
    bucket    = "hookline"
    schedules = { score = "0 0 3 * * *" }
  }

  assert {
    condition     = output.azure_subject_filters.train == { begins_with = "/blobServices/default/containers/hookline/blobs/landing/train/", ends_with = ".csv" }
    error_message = "Event Grid subject filter for train is wrong: ${jsonencode(output.azure_subject_filters.train)}"
  }
  assert {
    condition     = output.storage_uri == "az://hookline"
    error_message = "azure storage uri is az://<container>"
  }
  assert {
    condition     = strcontains(output.azure_conditions.serving_write, "StringStartsWith 'landing/predictions/'") && !strcontains(output.azure_conditions.serving_write, "'registry/'")
    error_message = "serving write condition must allow only landing/predictions/"
  }
  assert {
    condition     = length(regexall("StringStartsWith", output.azure_conditions.pipeline_write)) == 6
    error_message = "pipeline write condition: three path and three list prefixes expected"
  }
  assert {
    condition     = output.schedule_payloads.score.azure_settings == { HOOKLINE_SCHEDULED_PIPELINE = "score", HOOKLINE_SCHEDULE = "0 0 3 * * *" }
    error_message = "the Azure timer reads HOOKLINE_SCHEDULED_PIPELINE and HOOKLINE_SCHEDULE"
  }
}

run "schedule_payloads" {
  command = plan

  variables {
    schedules = { score = "rate(1 day)" }
  }

  assert {
    condition     = jsondecode(output.schedule_payloads.score.aws_input) == { source = "hookline.schedule", pipeline = "score" }
    error_message = "AWS scheduler input must be {\"source\":\"hookline.schedule\",\"pipeline\":\"score\"}"
  }
  assert {
    condition     = output.schedule_payloads.score.gcp_headers["ce-type"] == "hookline.schedule" && jsondecode(output.schedule_payloads.score.gcp_body) == { pipeline = "score" }
    error_message = "GCP scheduler sends a hookline.schedule CloudEvent with data {pipeline}"
  }
}
