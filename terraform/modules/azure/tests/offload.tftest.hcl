# Offline plans of run offload on Azure (offload*.tf) against the pinned azurerm provider's
# schema (mocked).

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
  enable_offload       = true
  offload_image        = "hooklinetestjobs.azurecr.io/job@sha256:a2a2a2a2a2a2a2a2a2a2a2a2a2a2a2a2a2a2a2a2a2a2a2a2a2a2a2a2a2a2a2a2"
  pipelines = {
    train = { prefix = "landing/train/", suffix = ".csv" }
  }
}

run "a_queue_message_starts_the_job" {
  command = plan

  assert {
    condition     = azurerm_container_app_job.train[0].event_trigger_config[0].scale[0].rules[0].custom_rule_type == "azure-queue"
    error_message = "the job is started by the jobs queue"
  }
  assert {
    condition     = azurerm_container_app_job.train[0].event_trigger_config[0].scale[0].rules[0].metadata["queueName"] == "hookline-jobs"
    error_message = "the [compute] table's queue"
  }
  assert {
    condition     = azurerm_container_app_job.train[0].replica_retry_limit == 0
    error_message = "hookline counts attempts (the queue redelivers a dead execution's message)"
  }
  assert {
    condition     = contains([for e in azurerm_container_app_job.train[0].template[0].container[0].env : "${e.name}=${e.value}"], "HOOKLINE_COMPUTE_BACKEND=container-apps-job")
    error_message = "the job receives its run from the queue"
  }
  assert {
    condition     = contains([for e in azurerm_container_app_job.train[0].template[0].container[0].env : "${e.name}=${e.value}"], "HOOKLINE_IMAGE_DIGEST=sha256:a2a2a2a2a2a2a2a2a2a2a2a2a2a2a2a2a2a2a2a2a2a2a2a2a2a2a2a2a2a2a2a2")
    error_message = "HOOKLINE_IMAGE_DIGEST is the image's digest"
  }
  assert {
    condition     = azurerm_container_registry.jobs[0].admin_enabled == false
    error_message = "pulls use the job's identity, not an admin user"
  }
}

run "the_pipeline_app_gets_the_reconciler_and_its_deadline" {
  command = plan

  assert {
    condition     = azurerm_linux_function_app.this["pipeline"].app_settings["HOOKLINE_RECONCILE_SCHEDULE"] == "0 */10 * * * *"
    error_message = "the reconciler's timer"
  }
  assert {
    condition     = azurerm_linux_function_app.this["pipeline"].app_settings["HOOKLINE_FUNCTION_TIMEOUT_SECONDS"] == tostring(var.pipeline_timeout_minutes * 60)
    error_message = "the pipeline's lease ends at its deadline"
  }
}

run "only_the_jobs_account_has_shared_keys_and_only_the_scale_rule_reads_them" {
  command = plan

  assert {
    condition     = azurerm_storage_account.data[0].shared_access_key_enabled == false
    error_message = "the data account's shared keys stay disabled with offload on"
  }
  assert {
    condition     = azurerm_container_app_job.train[0].event_trigger_config[0].scale[0].rules[0].authentication[0].secret_name == "jobs-queue" && azurerm_container_app_job.train[0].event_trigger_config[0].scale[0].rules[0].authentication[0].trigger_parameter == "connection"
    error_message = "KEDA counts the jobs queue with the jobs account's connection string (a secret of the job)"
  }
  assert {
    condition     = azurerm_storage_account.jobs[0].local_user_enabled == false && azurerm_storage_account.jobs[0].allow_nested_items_to_be_public == false && azurerm_storage_account.jobs[0].min_tls_version == "TLS1_2"
    error_message = "the jobs account allows no local users, no public items, TLS 1.2 only"
  }
  assert {
    condition     = alltrue([for e in azurerm_container_app_job.train[0].template[0].container[0].env : e.secret_name == null])
    error_message = "the job's container gets no secret: its clients use its identity"
  }
  assert {
    condition     = contains(keys(azurerm_linux_function_app.this["pipeline"].app_settings), "HOOKLINE_JOBS_QUEUE__queueServiceUri") && !contains(keys(azurerm_linux_function_app.this["pipeline"].app_settings), "HOOKLINE_JOBS_QUEUE")
    error_message = "the pipeline app reaches the jobs queue with its identity, never a connection string"
  }
  assert {
    condition     = output.offload_compute.connection == "HOOKLINE_JOBS_QUEUE" && output.offload_compute.queue == "hookline-jobs"
    error_message = "the [compute] table names the jobs queue's connection prefix"
  }
}

run "offload_without_an_image_fails_the_plan" {
  command = plan
  variables {
    offload_image = null
  }
  expect_failures = [azurerm_container_app_job.train]
}

run "offload_off_creates_nothing" {
  command = plan
  variables {
    enable_offload = false
  }

  assert {
    condition     = length(azurerm_container_app_job.train) == 0 && length(azurerm_storage_account.jobs) == 0 && length(azurerm_container_registry.jobs) == 0
    error_message = "enable_offload = false adds nothing"
  }
}
