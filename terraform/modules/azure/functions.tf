# The two function apps, each running its package from the host account's blob (fetched with
# the app's identity). HOOKLINE_ROLE tells function_app.py which functions to expose:
# pipeline -> pipeline_queue (the storage queue Event Grid writes to) and pipeline_timer;
# serving -> HTTP/ASGI. Python version and package come from the bundle manifests (bundles.tf).

locals {
  pipeline_queue_function = "pipeline_queue"
  pipeline_event_function = "pipeline_event_grid"
  pipeline_timer_function = "pipeline_timer"

  base_settings = {
    FUNCTIONS_WORKER_RUNTIME = "python"
    # The bundle's own azure-functions (>= 1.25) and libraries, not the worker's copies.
    PYTHON_ISOLATE_WORKER_DEPENDENCIES = "1"
    # DefaultAzureCredential picks the user-assigned identity through AZURE_CLIENT_ID.
    AZURE_STORAGE_ACCOUNT_URL       = trimsuffix(local.data_blob, "/")
    AzureWebJobsStorage__credential = "managedidentity"
  }

  app_settings = {
    pipeline = merge(local.base_settings, module.common.environment, {
      HOOKLINE_ROLE                                = "pipeline"
      AZURE_CLIENT_ID                              = one(azurerm_user_assigned_identity.pipeline[*].client_id)
      AzureWebJobsStorage__clientId                = one(azurerm_user_assigned_identity.pipeline[*].client_id)
      WEBSITE_RUN_FROM_PACKAGE                     = try(azurerm_storage_blob.bundle["pipeline"].url, null)
      WEBSITE_RUN_FROM_PACKAGE_BLOB_MI_RESOURCE_ID = one(azurerm_user_assigned_identity.pipeline[*].id)
      AzureFunctionsJobHost__functionTimeout       = format("%02d:%02d:00", floor(var.pipeline_timeout_minutes / 60), var.pipeline_timeout_minutes % 60)
      # Uploads arrive through the storage queue (docs/clouds/azure.md), identity-based connection
      # HOOKLINE_QUEUE; push delivery is off.
      HOOKLINE_EVENTS_QUEUE                                    = var.events_queue_name
      HOOKLINE_QUEUE__queueServiceUri                          = trimsuffix(local.data_queue, "/")
      HOOKLINE_QUEUE__credential                               = "managedidentity"
      HOOKLINE_QUEUE__clientId                                 = one(azurerm_user_assigned_identity.pipeline[*].client_id)
      "AzureWebJobs.${local.pipeline_event_function}.Disabled" = "true"
      # The timer function runs only when a schedule is configured.
      "AzureWebJobs.${local.pipeline_timer_function}.Disabled" = length(local.schedule) == 0 ? "true" : "false"
    }, local.function_secrets.pipeline, merge([for n, s in local.schedule : s.azure_settings]...), local.offload_app_settings)
    serving = merge(local.base_settings, module.common.environment, local.function_secrets.serving, {
      HOOKLINE_ROLE                                = "serving"
      AZURE_CLIENT_ID                              = one(azurerm_user_assigned_identity.serving[*].client_id)
      AzureWebJobsStorage__clientId                = one(azurerm_user_assigned_identity.serving[*].client_id)
      WEBSITE_RUN_FROM_PACKAGE                     = try(azurerm_storage_blob.bundle["serving"].url, null)
      WEBSITE_RUN_FROM_PACKAGE_BLOB_MI_RESOURCE_ID = one(azurerm_user_assigned_identity.serving[*].id)
      AzureFunctionsJobHost__functionTimeout       = format("%02d:%02d:00", floor(var.serving_timeout_minutes / 60), var.serving_timeout_minutes % 60)
    })
  }
  apps = merge(
    var.enable_pipeline ? { pipeline = local.names.pipeline_function } : {},
    var.enable_serving ? { serving = local.names.serving_function } : {},
  )
}

resource "azurerm_service_plan" "this" {
  #checkov:skip=CKV_AZURE_212:Scale-out is elastic (maximum_elastic_worker_count); a fixed failover minimum is an operator choice.
  #checkov:skip=CKV_AZURE_225:Zone redundancy needs at least three always-on instances; an operator choice for production.

  name                         = local.names.azure_plan
  resource_group_name          = local.rg
  location                     = var.location
  os_type                      = "Linux"
  sku_name                     = var.service_plan_sku
  maximum_elastic_worker_count = startswith(var.service_plan_sku, "EP") ? var.maximum_elastic_worker_count : null
  tags                         = var.tags
}

resource "azurerm_linux_function_app" "this" {
  for_each = local.apps
  #checkov:skip=CKV_AZURE_56:The pipeline app has no HTTP trigger (it reads the storage queue); the serving app checks the API keys on every prediction request (HOOKLINE_API_KEYS_SECRET). App Service Authentication is an operator choice.
  #checkov:skip=CKV_AZURE_221:Only the serving app is public (its clients call it over the internet); the pipeline app has public_network_access_enabled = false.
  #checkov:skip=CKV_AZURE_167:Client certificates would lock out the serving app's API clients; the pipeline app takes no inbound requests.
  #checkov:skip=CKV_AZURE_159:Client certificates would lock out the serving app's API clients; the pipeline app takes no inbound requests.

  name                                           = each.value
  resource_group_name                            = local.rg
  location                                       = var.location
  service_plan_id                                = azurerm_service_plan.this.id
  storage_account_name                           = azurerm_storage_account.host.name
  storage_uses_managed_identity                  = true
  https_only                                     = true
  public_network_access_enabled                  = each.key == "serving"
  ftp_publish_basic_authentication_enabled       = false
  webdeploy_publish_basic_authentication_enabled = false
  key_vault_reference_identity_id                = local.app_identities[each.key].id
  app_settings                                   = local.app_settings[each.key]
  tags                                           = var.tags

  identity {
    type         = "UserAssigned"
    identity_ids = [local.app_identities[each.key].id]
  }

  site_config {
    minimum_tls_version                    = "1.2"
    ftps_state                             = "Disabled"
    http2_enabled                          = true
    application_insights_connection_string = azurerm_application_insights.this.connection_string

    application_stack {
      python_version = local.bundle[each.key].runtime
    }
  }

  lifecycle {
    precondition {
      condition     = length(local.bundle_problems[each.key]) == 0
      error_message = "The ${each.key} bundle cannot be deployed:\n  - ${join("\n  - ", local.bundle_problems[each.key])}"
    }
  }

  depends_on = [time_sleep.rbac_propagation]
}

# --- Event Grid: BlobCreated under each trigger prefix -> storage queue -> pipeline_queue --
#
# Event Grid waits about 30 s for a push delivery to be answered and redelivers runs that take
# longer. Delivered to a storage queue instead, an event is acknowledged at once; the queue
# trigger holds the message (its visibility renewed) for as long as the run takes.

# A storage account has at most one system topic; if yours already has one, import it:
#   terraform import 'module.hookline.azurerm_eventgrid_system_topic.blob[0]' <topic id>
resource "azurerm_eventgrid_system_topic" "blob" {
  count = var.enable_pipeline ? 1 : 0

  name                = local.names.azure_system_topic
  resource_group_name = local.rg
  location            = var.location
  source_resource_id  = local.data_id
  topic_type          = "Microsoft.Storage.StorageAccounts"
  tags                = var.tags

  identity {
    type = "SystemAssigned"
  }
}

resource "azurerm_eventgrid_system_topic_event_subscription" "upload" {
  for_each = local.triggers

  name                 = substr("${var.name}-${replace(each.key, "_", "-")}", 0, 64)
  system_topic         = azurerm_eventgrid_system_topic.blob[0].name
  resource_group_name  = local.rg
  included_event_types = ["Microsoft.Storage.BlobCreated"]

  subject_filter {
    subject_begins_with = module.common.azure_subject_filters[each.key].begins_with
    subject_ends_with   = module.common.azure_subject_filters[each.key].ends_with == "" ? null : module.common.azure_subject_filters[each.key].ends_with
    case_sensitive      = true
  }

  # Event Grid schema: what the queue trigger's message encoding and the parser expect.
  event_delivery_schema = "EventGridSchema"

  storage_queue_endpoint {
    storage_account_id                    = local.data_id
    queue_name                            = azurerm_storage_queue.events[0].name
    queue_message_time_to_live_in_seconds = var.queue_message_ttl_seconds
  }

  # Shared keys are off on the data account: Event Grid writes with the topic's identity.
  delivery_identity {
    type = "SystemAssigned"
  }

  # Failure handling, set explicitly: a write to the queue that fails is retried with backoff;
  # after max_delivery_attempts or the time to live the event is written to the deadletter
  # container and the alert below fires. A run that fails inside the function is retried by
  # the queue trigger (maxDequeueCount) and then moved to the <queue>-poison queue.
  retry_policy {
    max_delivery_attempts = var.max_delivery_attempts
    event_time_to_live    = var.event_time_to_live_minutes
  }

  dead_letter_identity {
    type = "SystemAssigned"
  }

  storage_blob_dead_letter_destination {
    storage_account_id          = azurerm_storage_account.host.id
    storage_blob_container_name = azurerm_storage_container.dead_letter.name
  }

  depends_on = [azurerm_role_assignment.dead_letter, azurerm_role_assignment.queue_sender, time_sleep.rbac_propagation]
}

resource "azurerm_monitor_metric_alert" "dead_letter" {
  count = var.enable_pipeline ? 1 : 0

  name                = "${var.name}-dead-lettered"
  resource_group_name = local.rg
  scopes              = [azurerm_eventgrid_system_topic.blob[0].id]
  description         = "hookline: an upload event failed after all delivery attempts and was written to the deadletter container of ${azurerm_storage_account.host.name}."
  severity            = 1
  frequency           = "PT5M"
  window_size         = "PT5M"
  tags                = var.tags

  criteria {
    metric_namespace = "Microsoft.EventGrid/systemTopics"
    metric_name      = "DeadLetteredCount"
    aggregation      = "Total"
    operator         = "GreaterThan"
    threshold        = 0
  }

  dynamic "action" {
    for_each = azurerm_monitor_action_group.alerts
    content {
      action_group_id = action.value.id
    }
  }
}

resource "azurerm_monitor_metric_alert" "dropped" {
  count = var.enable_pipeline ? 1 : 0

  name                = "${var.name}-events-dropped"
  resource_group_name = local.rg
  scopes              = [azurerm_eventgrid_system_topic.blob[0].id]
  description         = "hookline: Event Grid dropped upload events it could neither deliver nor dead-letter."
  severity            = 1
  frequency           = "PT5M"
  window_size         = "PT5M"
  tags                = var.tags

  criteria {
    metric_namespace = "Microsoft.EventGrid/systemTopics"
    metric_name      = "DroppedEventCount"
    aggregation      = "Total"
    operator         = "GreaterThan"
    threshold        = 0
  }

  dynamic "action" {
    for_each = azurerm_monitor_action_group.alerts
    content {
      action_group_id = action.value.id
    }
  }
}

# --- the events queue (docs/clouds/azure.md), in the data storage account -------------------------

resource "azurerm_storage_queue" "events" {
  count = var.enable_pipeline ? 1 : 0

  name               = var.events_queue_name
  storage_account_id = local.data_id
}

# Where the queue trigger moves a message after maxDequeueCount failed runs.
resource "azurerm_storage_queue" "poison" {
  count = var.enable_pipeline ? 1 : 0

  name               = "${var.events_queue_name}-poison"
  storage_account_id = local.data_id
}

# --- run outcomes: log-based alerts on the run_finished lines (docs/operations.md, "Logs and metrics") ---------------

locals {
  alert_pipelines = var.enable_pipeline ? toset(distinct(concat(keys(var.pipelines), keys(var.schedules)))) : toset([])
  run_finished    = "traces | where tostring(customDimensions.event) == \"run_finished\""
  run_alerts = merge(
    { for p in local.alert_pipelines : "${p}-failed" => { pipeline = p, status = "failed", what = "a run failed" } },
    var.alarm_on_rejected_runs ? { for p in local.alert_pipelines : "${p}-rejected" => { pipeline = p, status = "rejected", what = "a candidate was rejected by its gates" } } : {},
  )
}

resource "azurerm_monitor_scheduled_query_rules_alert_v2" "run" {
  for_each = local.run_alerts

  name                 = "${var.name}-${each.key}"
  resource_group_name  = local.rg
  location             = var.location
  scopes               = [azurerm_application_insights.this.id]
  description          = "hookline: pipeline ${each.value.pipeline}: ${each.value.what}. `hookline runs` shows the run record."
  severity             = each.value.status == "failed" ? 1 : 2
  evaluation_frequency = "PT5M"
  window_duration      = "PT5M"
  tags                 = var.tags

  criteria {
    query                   = "${local.run_finished} | where tostring(customDimensions.pipeline) == \"${each.value.pipeline}\" and tostring(customDimensions.status) == \"${each.value.status}\""
    time_aggregation_method = "Count"
    operator                = "GreaterThan"
    threshold               = 0
  }

  dynamic "action" {
    for_each = azurerm_monitor_action_group.alerts
    content {
      action_groups = [action.value.id]
    }
  }
}

# One day per evaluation period, every period empty of succeeded runs: the model is stale.
resource "azurerm_monitor_scheduled_query_rules_alert_v2" "no_training" {
  for_each = var.max_days_without_training > 0 ? local.alert_pipelines : toset([])

  name                 = "${var.name}-${each.key}-no-successful-run"
  resource_group_name  = local.rg
  location             = var.location
  scopes               = [azurerm_application_insights.this.id]
  description          = "hookline: pipeline ${each.key} has had no successful run for ${var.max_days_without_training} days: the model is no longer being retrained."
  severity             = 2
  evaluation_frequency = "P1D"
  window_duration      = "P1D"
  tags                 = var.tags

  criteria {
    query                   = "${local.run_finished} | where tostring(customDimensions.pipeline) == \"${each.key}\" and tostring(customDimensions.status) == \"succeeded\""
    time_aggregation_method = "Count"
    operator                = "LessThan"
    threshold               = 1

    failing_periods {
      number_of_evaluation_periods             = var.max_days_without_training
      minimum_failing_periods_to_trigger_alert = var.max_days_without_training
    }
  }

  dynamic "action" {
    for_each = azurerm_monitor_action_group.alerts
    content {
      action_groups = [action.value.id]
    }
  }
}
