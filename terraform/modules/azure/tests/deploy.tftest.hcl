# Offline plans of the Azure module against the schema of the pinned azurerm provider (mocked).
# A bad bundle stops the plan at its upload (azurerm_storage_blob.bundle), before any app.

mock_provider "azurerm" {
  mock_data "azurerm_client_config" {
    defaults = {
      tenant_id = "00000000-0000-0000-0000-000000000000"
      object_id = "11111111-1111-1111-1111-111111111111"
    }
  }
}
mock_provider "time" {}

variables {
  name                 = "hookline-test"
  location             = "westeurope"
  resource_group_name  = "hookline-test"
  storage_account_name = "hooklinetest123"
  bundle_dir           = "tests/fixtures/ok"
  pipelines = {
    train = { prefix = "landing/train/", suffix = ".csv" }
  }
}

# Defect 1: the apps' Python and packages come from the manifests.
run "apps_run_what_the_manifests_say" {
  command = plan
  assert {
    condition     = azurerm_linux_function_app.this["pipeline"].site_config[0].application_stack[0].python_version == "3.12" && azurerm_linux_function_app.this["serving"].site_config[0].application_stack[0].python_version == "3.12"
    error_message = "the Python version must be the manifest's"
  }
  assert {
    condition     = azurerm_storage_blob.bundle["pipeline"].name == "pipeline-${jsondecode(file("tests/fixtures/ok/pipeline.manifest.json")).sha256}.zip"
    error_message = "packages are named by their hash"
  }
}

run "a_bundle_for_an_unsupported_python_fails_the_plan" {
  command = plan
  variables {
    bundle_dir = "tests/fixtures/python-3.10"
  }
  expect_failures = [azurerm_storage_blob.bundle]
}

run "an_arm64_bundle_fails_the_plan" {
  command = plan
  variables {
    bundle_dir = "tests/fixtures/arch-arm64"
  }
  expect_failures = [azurerm_storage_blob.bundle]
}

run "a_bundle_for_another_cloud_fails_the_plan" {
  command = plan
  variables {
    bundle_dir = "tests/fixtures/other-cloud"
  }
  expect_failures = [azurerm_storage_blob.bundle]
}

run "an_archive_changed_after_packaging_fails_the_plan" {
  command = plan
  variables {
    bundle_dir = "tests/fixtures/stale-zip"
  }
  expect_failures = [azurerm_storage_blob.bundle]
}

# Defect 7: Event Grid -> storage queue -> queue-triggered function, not push delivery.
run "uploads_go_through_the_events_queue" {
  command = plan
  assert {
    condition     = azurerm_storage_queue.events[0].name == "hookline-events" && azurerm_storage_queue.poison[0].name == "hookline-events-poison"
    error_message = "the events queue and its poison queue"
  }
  assert {
    condition     = length(azurerm_eventgrid_system_topic_event_subscription.upload["train"].azure_function_endpoint) == 0 && azurerm_eventgrid_system_topic_event_subscription.upload["train"].storage_queue_endpoint[0].queue_name == "hookline-events"
    error_message = "Event Grid writes to the queue (no push delivery to the function)"
  }
  assert {
    condition     = azurerm_eventgrid_system_topic_event_subscription.upload["train"].delivery_identity[0].type == "SystemAssigned"
    error_message = "Event Grid writes with its identity (shared keys are off)"
  }
  assert {
    condition     = azurerm_linux_function_app.this["pipeline"].app_settings["HOOKLINE_EVENTS_QUEUE"] == "hookline-events" && azurerm_linux_function_app.this["pipeline"].app_settings["HOOKLINE_QUEUE__credential"] == "managedidentity" && contains(keys(azurerm_linux_function_app.this["pipeline"].app_settings), "HOOKLINE_QUEUE__queueServiceUri")
    error_message = "the queue trigger's identity-based connection HOOKLINE_QUEUE"
  }
  assert {
    condition     = azurerm_role_assignment.queue_sender[0].role_definition_name == "Storage Queue Data Message Sender" && toset(keys(azurerm_role_assignment.queue_pipeline)) == toset(["events", "poison"])
    error_message = "Event Grid may only send; the pipeline works the two queues"
  }
  assert {
    condition     = azurerm_linux_function_app.this["pipeline"].public_network_access_enabled == false && azurerm_linux_function_app.this["serving"].public_network_access_enabled == true
    error_message = "the pipeline app needs no inbound access any more"
  }
}

# Defect 8: the bundle's own libraries, not the worker's.
run "workers_isolate_their_dependencies" {
  command = plan
  assert {
    condition     = alltrue([for k in ["pipeline", "serving"] : azurerm_linux_function_app.this[k].app_settings["PYTHON_ISOLATE_WORKER_DEPENDENCIES"] == "1"])
    error_message = "PYTHON_ISOLATE_WORKER_DEPENDENCIES=1 on both apps"
  }
}

# Defect 9: Application Insights retention is one of the values it accepts.
run "an_unaccepted_retention_is_refused" {
  command = plan
  variables {
    log_retention_days = 45
  }
  expect_failures = [var.log_retention_days]
}

run "an_accepted_retention_reaches_application_insights" {
  command = plan
  variables {
    log_retention_days = 90
  }
  assert {
    condition     = azurerm_application_insights.this.retention_in_days == 90 && azurerm_log_analytics_workspace.this.retention_in_days == 90
    error_message = "retention passes through unchanged"
  }
}

# Defect 6: run outcomes alert from the run_finished traces.
run "run_outcomes_alert" {
  command = plan
  assert {
    condition     = strcontains(azurerm_monitor_scheduled_query_rules_alert_v2.run["train-failed"].criteria[0].query, "customDimensions.event) == \"run_finished\"") && strcontains(azurerm_monitor_scheduled_query_rules_alert_v2.run["train-failed"].criteria[0].query, "\"failed\"")
    error_message = "failed runs alert on the run_finished traces"
  }
  assert {
    condition     = contains(keys(azurerm_monitor_scheduled_query_rules_alert_v2.run), "train-rejected") && azurerm_monitor_scheduled_query_rules_alert_v2.no_training["train"].criteria[0].failing_periods[0].number_of_evaluation_periods == 6
    error_message = "rejected runs and stale training alert"
  }
}

# Issues 12 and 15.
run "signing_and_admin_keys_reach_the_right_apps" {
  command = plan
  variables {
    create_signing_key_secret = true
    create_admin_keys_secret  = true
  }
  assert {
    condition     = contains(keys(azurerm_linux_function_app.this["pipeline"].app_settings), "HOOKLINE_SIGNING_KEY_SECRET") && contains(keys(azurerm_linux_function_app.this["serving"].app_settings), "HOOKLINE_SIGNING_KEY_SECRET")
    error_message = "both apps get the signing key reference"
  }
  assert {
    condition     = !contains(keys(azurerm_linux_function_app.this["pipeline"].app_settings), "HOOKLINE_ADMIN_KEYS_SECRET") && contains(keys(azurerm_linux_function_app.this["serving"].app_settings), "HOOKLINE_ADMIN_KEYS_SECRET")
    error_message = "only serving gets the admin keys"
  }
  assert {
    condition     = length(azurerm_key_vault.signing) == 1 && toset(keys(azurerm_role_assignment.signing_key)) == toset(["pipeline", "serving"]) && length(azurerm_role_assignment.serving_api_keys) == 1
    error_message = "the signing vault is read by both apps; the serving vault by serving only"
  }
}
