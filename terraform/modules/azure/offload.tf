# Run offload (docs/scaling.md), when enable_offload is true: a run that outgrows the pipeline
# function is one message in the jobs queue; the Container Apps job's scale rule (KEDA
# azure-queue) starts one execution per message, which
# runs `python3 -m hookline job run`: it receives the message, keeps it invisible while it runs
# (heartbeats), deletes it once the run is recorded. A dead execution's message comes back: the
# next attempt. The pipeline app's reconciler timer closes messages nobody received.

# The jobs queue lives in an account of its own that holds nothing else: KEDA's queue scaler
# counts its messages with the account's connection string, because azurerm < 4.56 cannot give
# a Container Apps job's scale rule an identity (identity_id), and the data account's shared
# keys stay disabled. Everything else -- dispatching, receiving, deleting -- uses identities.

locals {
  offload        = var.enable_offload && var.enable_pipeline
  offload_digest = var.offload_image == null ? "" : split("@", var.offload_image)[1]
  registry_name  = coalesce(var.offload_registry_name, substr(replace("${var.name}jobs${substr(md5(local.data_id), 0, 6)}", "-", ""), 0, 50))
  job_environment = merge(module.common.environment, local.function_secrets.pipeline, {
    HOOKLINE_COMPUTE_BACKEND             = "container-apps-job"
    HOOKLINE_IMAGE_DIGEST                = local.offload_digest
    AZURE_STORAGE_ACCOUNT_URL            = trimsuffix(local.data_blob, "/")
    AZURE_CLIENT_ID                      = one(azurerm_user_assigned_identity.job[*].client_id)
    HOOKLINE_JOBS_QUEUE__queueServiceUri = local.jobs_queue_endpoint
  })
  jobs_account        = substr(replace("${var.name}jobsq${substr(md5(local.data_id), 0, 6)}", "-", ""), 0, 24)
  jobs_queue_endpoint = trimsuffix(one(azurerm_storage_account.jobs[*].primary_queue_endpoint) == null ? "" : one(azurerm_storage_account.jobs[*].primary_queue_endpoint), "/")
  # The pipeline app: the reconciler's timer, and leases that end at the function's deadline.
  offload_app_settings = local.offload ? {
    HOOKLINE_RECONCILE_SCHEDULE          = var.offload_reconcile_schedule
    HOOKLINE_FUNCTION_TIMEOUT_SECONDS    = tostring(var.pipeline_timeout_minutes * 60)
    HOOKLINE_JOBS_QUEUE__queueServiceUri = local.jobs_queue_endpoint
  } : {}
}

resource "azurerm_storage_account" "jobs" {
  count = local.offload ? 1 : 0
  #checkov:skip=CKV2_AZURE_40:KEDA's queue scaler reads the message count with a connection string (azurerm < 4.56 cannot give the job's scale rule an identity); the account holds only the jobs queue, whose messages name runs, and every hookline client uses an identity.
  #checkov:skip=CKV2_AZURE_41:The account holds only the jobs queue; no SAS is issued by hookline.
  #checkov:skip=CKV_AZURE_59:KEDA and the function reach the queue over the public endpoint (no VNet by default).
  #checkov:skip=CKV2_AZURE_33:Private endpoints need a VNet the operator owns.
  #checkov:skip=CKV2_AZURE_1:Microsoft-managed keys with infrastructure encryption; the messages are run ids.
  #checkov:skip=CKV_AZURE_33:Queue logging needs diagnostic settings the operator chooses; the run records in the data account are the durable history.
  #checkov:skip=CKV_AZURE_206:Holds only transient job messages; a lost message is found by the reconciler.
  #checkov:skip=CKV2_AZURE_38:No blobs are stored in this account.
  #checkov:skip=CKV2_AZURE_21:No blobs are stored in this account.

  name                              = local.jobs_account
  resource_group_name               = local.rg
  location                          = var.location
  account_tier                      = "Standard"
  account_replication_type          = "LRS"
  account_kind                      = "StorageV2"
  min_tls_version                   = "TLS1_2"
  https_traffic_only_enabled        = true
  allow_nested_items_to_be_public   = false
  shared_access_key_enabled         = true
  infrastructure_encryption_enabled = true
  local_user_enabled                = false
  tags                              = var.tags
}

resource "azurerm_storage_queue" "jobs" {
  count = local.offload ? 1 : 0

  name               = var.offload_jobs_queue_name
  storage_account_id = azurerm_storage_account.jobs[0].id
}

resource "azurerm_user_assigned_identity" "job" {
  count = local.offload ? 1 : 0

  name                = "${var.name}-job-id"
  resource_group_name = local.rg
  location            = var.location
  tags                = var.tags
}

resource "azurerm_container_registry" "jobs" {
  count = local.offload ? 1 : 0
  #checkov:skip=CKV_AZURE_139:The Container Apps environment pulls over the registry's public endpoint (no VNet by default); admin access is off and every pull is the job's Entra identity with AcrPull.
  #checkov:skip=CKV_AZURE_163:Image vulnerability scanning is Microsoft Defender for Containers, enabled per subscription by the operator.
  #checkov:skip=CKV_AZURE_164:Content trust (Notary v1) is being retired by Azure; the job runs its image by digest, which fixes the bytes.
  #checkov:skip=CKV_AZURE_165:Geo-replication needs the Premium tier; the job image is rebuilt byte for byte by `hookline package`.
  #checkov:skip=CKV_AZURE_166:Quarantine needs a scanner that releases images; images are deployed by digest only.
  #checkov:skip=CKV_AZURE_167:Untagged-manifest retention needs the Premium tier; images are few and small.
  #checkov:skip=CKV_AZURE_233:Zone redundancy needs the Premium tier; a registry outage delays new executions, not running ones.
  #checkov:skip=CKV_AZURE_237:Dedicated data endpoints need the Premium tier and matter only behind firewall rules, which this registry does not use.

  name                = local.registry_name
  resource_group_name = local.rg
  location            = var.location
  sku                 = "Standard"
  admin_enabled       = false
  tags                = var.tags
}

# --- what the job's identity may do: the pipeline's data access, its queue, its image -------

resource "azurerm_role_assignment" "job_data" {
  for_each = local.offload ? {
    read  = { role = local.blob_reader, condition = module.common.azure_conditions.pipeline_read }
    write = { role = local.blob_contributor, condition = module.common.azure_conditions.pipeline_write }
  } : {}

  scope                = azurerm_storage_container.data.id
  role_definition_name = each.value.role
  principal_id         = azurerm_user_assigned_identity.job[0].principal_id
  principal_type       = "ServicePrincipal"
  condition_version    = "2.0"
  condition            = each.value.condition
  description          = "hookline ${var.name}: job_${each.key}"
}

# Receive, keep invisible (update) and delete its messages; the scale rule counts them.
resource "azurerm_role_assignment" "job_queue" {
  count = local.offload ? 1 : 0

  scope                = azurerm_storage_queue.jobs[0].id
  role_definition_name = "Storage Queue Data Contributor"
  principal_id         = azurerm_user_assigned_identity.job[0].principal_id
  principal_type       = "ServicePrincipal"
}

resource "azurerm_role_assignment" "job_pull" {
  count = local.offload ? 1 : 0

  scope                = azurerm_container_registry.jobs[0].id
  role_definition_name = "AcrPull"
  principal_id         = azurerm_user_assigned_identity.job[0].principal_id
  principal_type       = "ServicePrincipal"
}

resource "azurerm_role_assignment" "job_signing_key" {
  count = local.offload && local.signing_vault ? 1 : 0

  scope                = azurerm_key_vault.signing[0].id
  role_definition_name = "Key Vault Secrets User"
  principal_id         = azurerm_user_assigned_identity.job[0].principal_id
  principal_type       = "ServicePrincipal"
}

# The pipeline app sends messages (dispatch), peeks them and deletes one nobody received
# (the reconciler): on this queue only.
resource "azurerm_role_assignment" "dispatcher_queue" {
  count = local.offload ? 1 : 0

  scope                = azurerm_storage_queue.jobs[0].id
  role_definition_name = "Storage Queue Data Contributor"
  principal_id         = azurerm_user_assigned_identity.pipeline[0].principal_id
  principal_type       = "ServicePrincipal"
}

resource "time_sleep" "offload_rbac" {
  count = local.offload ? 1 : 0

  create_duration = "60s"
  depends_on = [
    azurerm_role_assignment.job_data,
    azurerm_role_assignment.job_queue,
    azurerm_role_assignment.job_pull,
    azurerm_role_assignment.job_signing_key,
  ]
}

# --- the Container Apps job ----------------------------------------------------------------

resource "azurerm_container_app_environment" "jobs" {
  count = local.offload ? 1 : 0

  name                       = "${var.name}-jobs"
  resource_group_name        = local.rg
  location                   = var.location
  log_analytics_workspace_id = azurerm_log_analytics_workspace.this.id
  tags                       = var.tags
}

resource "azurerm_container_app_job" "train" {
  count = local.offload ? 1 : 0

  name                         = "${var.name}-job"
  resource_group_name          = local.rg
  location                     = var.location
  container_app_environment_id = azurerm_container_app_environment.jobs[0].id
  replica_timeout_in_seconds   = var.offload_max_runtime_seconds
  # hookline counts attempts (the queue delivers a dead execution's message again).
  replica_retry_limit = 0
  tags                = var.tags

  identity {
    type         = "UserAssigned"
    identity_ids = [azurerm_user_assigned_identity.job[0].id]
  }

  registry {
    server   = azurerm_container_registry.jobs[0].login_server
    identity = azurerm_user_assigned_identity.job[0].id
  }

  # Only KEDA's scale rule reads it (the job's own clients use its identity).
  secret {
    name  = "jobs-queue"
    value = azurerm_storage_account.jobs[0].primary_connection_string
  }

  event_trigger_config {
    parallelism              = 1
    replica_completion_count = 1

    scale {
      min_executions              = 0
      max_executions              = var.offload_max_executions
      polling_interval_in_seconds = 30

      rules {
        name             = "hookline-jobs"
        custom_rule_type = "azure-queue"
        metadata = {
          accountName = local.jobs_account
          queueName   = var.offload_jobs_queue_name
          queueLength = "1"
        }
        authentication {
          secret_name       = "jobs-queue"
          trigger_parameter = "connection"
        }
      }
    }
  }

  template {
    container {
      name   = "job"
      image  = var.offload_image
      cpu    = var.offload_cpu
      memory = var.offload_memory

      dynamic "env" {
        for_each = local.job_environment
        content {
          name  = env.key
          value = env.value
        }
      }
    }
  }

  lifecycle {
    precondition {
      condition     = var.offload_image != null
      error_message = "enable_offload needs offload_image: the job image by digest, pushed to the registry ${local.registry_name}.azurecr.io."
    }
  }

  depends_on = [time_sleep.offload_rbac]
}
