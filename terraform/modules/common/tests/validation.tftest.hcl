# Offline tests of the input validations: each bad input is rejected by the variable it concerns.

variables {
  cloud  = "aws"
  name   = "hookline-demo"
  bucket = "demo-bucket"
  pipelines = {
    train = { prefix = "landing/train/", suffix = ".csv" }
  }
}

run "trigger_on_runs_prefix_is_rejected" {
  command = plan
  variables {
    pipelines = { train = { prefix = "runs/" } }
  }
  expect_failures = [var.pipelines]
}

run "trigger_inside_framework_prefix_is_rejected" {
  command = plan
  variables {
    pipelines = { everything = { prefix = "monitoring/daily/" } }
  }
  expect_failures = [var.pipelines]
}

run "prefix_without_trailing_slash_is_rejected" {
  command = plan
  variables {
    pipelines = { train = { prefix = "landing/train" } }
  }
  expect_failures = [var.pipelines]
}

run "absolute_or_dotdot_prefix_is_rejected" {
  command = plan
  variables {
    pipelines = {
      a = { prefix = "/landing/a/" }
      b = { prefix = "landing/../b/" }
    }
  }
  expect_failures = [var.pipelines]
}

run "wildcard_prefix_is_rejected" {
  command = plan
  variables {
    pipelines = { train = { prefix = "landing/*/" } }
  }
  expect_failures = [var.pipelines]
}

run "overlapping_triggers_are_rejected" {
  command = plan
  variables {
    pipelines = {
      all   = { prefix = "landing/" }
      score = { prefix = "landing/score/", suffix = ".csv" }
    }
  }
  expect_failures = [output.triggers]
}

run "same_prefix_different_suffixes_is_allowed" {
  command = plan
  variables {
    pipelines = {
      csv     = { prefix = "landing/train/", suffix = ".csv" }
      parquet = { prefix = "landing/train/", suffix = ".parquet" }
    }
  }
  assert {
    condition     = length(output.triggers) == 2
    error_message = "disjoint suffixes under one prefix do not overlap"
  }
}

run "overlapping_suffixes_of_one_pipeline_are_rejected" {
  command = plan
  variables {
    pipelines = { train = { prefix = "landing/train/", suffix = ".csv", suffixes = ["v"] } }
  }
  expect_failures = [output.triggers]
}

run "suffix_list_gives_one_filter_per_suffix" {
  command = plan
  variables {
    pipelines = { train = { prefix = "landing/train/", suffixes = [".csv", ".parquet"] } }
  }
  assert {
    condition     = output.triggers["train-1"].suffix == ".csv" && output.triggers["train-2"].suffix == ".parquet" && output.triggers["train-2"].pipeline == "train"
    error_message = "each suffix becomes its own filter: ${jsonencode(output.triggers)}"
  }
}

run "uppercase_pipeline_name_is_rejected" {
  command = plan
  variables {
    pipelines = { Train = { prefix = "landing/train/" } }
  }
  expect_failures = [var.pipelines]
}

run "bad_deployment_name_is_rejected" {
  command = plan
  variables {
    name = "Hookline_Demo"
  }
  expect_failures = [var.name]
}

run "storage_prefix_with_dotdot_is_rejected" {
  command = plan
  variables {
    storage_prefix = "team/../other"
  }
  expect_failures = [var.storage_prefix]
}

run "aws_schedule_in_unix_cron_is_rejected" {
  command = plan
  variables {
    schedules = { score = "0 3 * * *" }
  }
  expect_failures = [var.schedules]
}

run "gcp_schedule_in_unix_cron_is_accepted" {
  command = plan
  variables {
    cloud     = "gcp"
    schedules = { score = "0 3 * * *" }
  }
  assert {
    condition     = output.schedule_payloads.score.expression == "0 3 * * *"
    error_message = "a 5-field cron is valid for Cloud Scheduler"
  }
}

run "two_azure_schedules_are_rejected" {
  command = plan
  variables {
    cloud     = "azure"
    schedules = { score = "0 0 3 * * *", train = "0 0 4 * * *" }
  }
  expect_failures = [var.schedules]
}

run "config_uri_must_be_a_toml_uri" {
  command = plan
  variables {
    config_uri = "https://example.com/hookline.toml"
  }
  expect_failures = [var.config_uri]
}

run "plugin_names_cannot_carry_commas" {
  command = plan
  variables {
    plugins = ["a,b"]
  }
  expect_failures = [var.plugins]
}
