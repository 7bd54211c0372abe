# The two function apps, each running its package from the host account's blob (fetched with
# the app's identity). HOOKLINE_ROLE tells function_app.py which functions to expose:
# pipeline -> pipeline_event_grid (Event Grid) and pipeline_timer (timer); serving -> HTTP/ASGI.

locals {
  pipeline_event_function = "pipeline_event_grid"
  pipeline_timer_function = "pipeline_timer"

  base_settings = {
    FUNCTIONS_WORKER_RUNTIME = "python"
    # DefaultAzureCredential picks the user-assigned identity through AZURE_CLIENT_ID.
    AZURE_STORAGE_ACCOUNT_URL       = trimsuffix(local.data_blob, "/")
    AzureWebJobsStorage__credential = "managedidentity"
  }

  app_settings = {
    pipeline = merge(local.base_settings, module.common.environment, {
      HOOKLINE_ROLE                                = "pipeline"
      AZURE_CLIENT_ID                              = one(azurerm_user_assigned_identity.pipeline[*].client_id)
      AzureWebJobsStorage__clientId                = one(azurerm_user_assigned_identity.pipeline[*].client_id)
      WEBSITE_RUN_FROM_PACKAGE                     = one(azurerm_storage_blob.pipeline[*].url)
      WEBSITE_RUN_FROM_PACKAGE_BLOB_MI_RESOURCE_ID = one(azurerm_user_assigned_identity.pipeline[*].id)
      AzureFunctionsJobHost__functionTimeout       = format("%02d:%02d:00", floor(var.pipeline_timeout_minutes / 60), var.pipeline_timeout_minutes % 60)
      # The timer function runs only when a schedule is configured.
      "AzureWebJobs.${local.pipeline_timer_function}.Disabled" = length(local.schedule) == 0 ? "true" : "false"
    }, merge([for n, s in local.schedule : s.azure_settings]...))
    serving = merge(local.base_settings, module.common.environment, {
      HOOKLINE_ROLE                                = "serving"
      HOOKLINE_API_KEYS_SECRET                     = local.api_keys_secret_uri
      AZURE_CLIENT_ID                              = one(azurerm_user_assigned_identity.serving[*].client_id)
      AzureWebJobsStorage__clientId                = one(azurerm_user_assigned_identity.serving[*].client_id)
      WEBSITE_RUN_FROM_PACKAGE                     = one(azurerm_storage_blob.serving[*].url)
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
  #checkov:skip=CKV_AZURE_56:The pipeline app is reached by Event Grid with a system key; the serving app authenticates callers with function keys or API keys (see README). App Service Authentication is an operator choice.
  #checkov:skip=CKV_AZURE_221:Event Grid delivers to the function over its public endpoint; private access needs a VNet the operator owns.
  #checkov:skip=CKV_AZURE_167:Client certificates would break Event Grid delivery and plain API clients.
  #checkov:skip=CKV_AZURE_159:Client certificates would break Event Grid delivery and plain API clients.

  name                                           = each.value
  resource_group_name                            = local.rg
  location                                       = var.location
  service_plan_id                                = azurerm_service_plan.this.id
  storage_account_name                           = azurerm_storage_account.host.name
  storage_uses_managed_identity                  = true
  https_only                                     = true
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
      python_version = var.python_version
    }
  }

  depends_on = [time_sleep.rbac_propagation]
}

# The Event Grid subscription is validated against the indexed pipeline_event_grid function:
# give the app time to start and index its functions after it is created.
resource "time_sleep" "function_indexing" {
  count = var.enable_pipeline ? 1 : 0

  create_duration = var.function_indexing_wait
  triggers = {
    package = azurerm_storage_blob.pipeline[0].name
  }
  depends_on = [azurerm_linux_function_app.this]
}

# --- Event Grid: BlobCreated under each trigger prefix -> pipeline_event_grid ------------

# A storage account has at most one system topic; if yours already has one, import it:
#   terraform import 'module.hookline.azurerm_eventgrid_system_topic.blob[0]' <topic id>
resource "azurerm_eventgrid_system_topic" "blob" {
  count = var.enable_pipeline ? 1 : 0

  name                   = local.names.azure_system_topic
  resource_group_name    = local.rg
  location               = var.location
  source_arm_resource_id = local.data_id
  topic_type             = "Microsoft.Storage.StorageAccounts"
  tags                   = var.tags

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

  azure_function_endpoint {
    function_id          = "${azurerm_linux_function_app.this["pipeline"].id}/functions/${local.pipeline_event_function}"
    max_events_per_batch = 1
  }

  # Failure handling, set explicitly: a delivery the function answers with an error is retried
  # with backoff; after max_delivery_attempts or the time to live the event is written to the
  # deadletter container and the alert below fires.
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

  depends_on = [time_sleep.function_indexing, azurerm_role_assignment.dead_letter, time_sleep.rbac_propagation]
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
