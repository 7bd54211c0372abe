# User-assigned identities and their role assignments. Data access is confined to prefixes of
# the container with ABAC conditions (computed in ../common):
#   pipeline: read the trigger prefixes, landing/predictions/ and its own outputs;
#             write and delete only runs/, registry/, monitoring/.
#   serving:  read registry/; write landing/predictions/.
# The host storage account holds only the runtime's state, the packages and dead letters.

resource "azurerm_user_assigned_identity" "pipeline" {
  count = var.enable_pipeline ? 1 : 0

  name                = "${local.names.pipeline_function}-id"
  resource_group_name = local.rg
  location            = var.location
  tags                = var.tags
}

resource "azurerm_user_assigned_identity" "serving" {
  count = var.enable_serving ? 1 : 0

  name                = "${local.names.serving_function}-id"
  resource_group_name = local.rg
  location            = var.location
  tags                = var.tags
}

locals {
  app_identities = merge(
    var.enable_pipeline ? { pipeline = azurerm_user_assigned_identity.pipeline[0] } : {},
    var.enable_serving ? { serving = azurerm_user_assigned_identity.serving[0] } : {},
  )
  # role assignment key -> (identity, role, condition)
  data_roles = merge(
    var.enable_pipeline ? {
      pipeline_read  = { identity = "pipeline", role = local.blob_reader, condition = module.common.azure_conditions.pipeline_read }
      pipeline_write = { identity = "pipeline", role = local.blob_contributor, condition = module.common.azure_conditions.pipeline_write }
    } : {},
    var.enable_serving ? {
      serving_read  = { identity = "serving", role = local.blob_reader, condition = module.common.azure_conditions.serving_read }
      serving_write = { identity = "serving", role = local.blob_contributor, condition = module.common.azure_conditions.serving_write }
    } : {},
  )
  # The Functions runtime's own storage (AzureWebJobsStorage through the identity).
  host_roles = merge([for k, _ in local.app_identities : {
    "${k}_blob"  = { identity = k, role = "Storage Blob Data Owner" }
    "${k}_queue" = { identity = k, role = "Storage Queue Data Contributor" }
  }]...)
}

resource "azurerm_role_assignment" "data" {
  for_each = local.data_roles

  scope                = azurerm_storage_container.data.id
  role_definition_name = each.value.role
  principal_id         = local.app_identities[each.value.identity].principal_id
  principal_type       = "ServicePrincipal"
  condition_version    = "2.0"
  condition            = each.value.condition
  description          = "hookline ${var.name}: ${each.key}"
}

resource "azurerm_role_assignment" "host" {
  for_each = local.host_roles

  scope                = azurerm_storage_account.host.id
  role_definition_name = each.value.role
  principal_id         = local.app_identities[each.value.identity].principal_id
  principal_type       = "ServicePrincipal"
}

# The serving vault holds only what the serving app reads (API keys, administration keys).
resource "azurerm_role_assignment" "serving_api_keys" {
  count = local.serving_vault ? 1 : 0

  scope                = azurerm_key_vault.this[0].id
  role_definition_name = "Key Vault Secrets User"
  principal_id         = azurerm_user_assigned_identity.serving[0].principal_id
  principal_type       = "ServicePrincipal"
}

# The signing vault holds only the registry signing key: both apps read it.
resource "azurerm_role_assignment" "signing_key" {
  for_each = local.signing_vault ? local.app_identities : {}

  scope                = azurerm_key_vault.signing[0].id
  role_definition_name = "Key Vault Secrets User"
  principal_id         = each.value.principal_id
  principal_type       = "ServicePrincipal"
}

# The events queue: Event Grid's topic adds messages, the pipeline app reads and deletes them
# (and moves failed ones to the poison queue).
resource "azurerm_role_assignment" "queue_sender" {
  count = var.enable_pipeline ? 1 : 0

  scope                = azurerm_storage_queue.events[0].id
  role_definition_name = "Storage Queue Data Message Sender"
  principal_id         = azurerm_eventgrid_system_topic.blob[0].identity[0].principal_id
  principal_type       = "ServicePrincipal"
}

resource "azurerm_role_assignment" "queue_pipeline" {
  for_each = var.enable_pipeline ? { events = azurerm_storage_queue.events[0], poison = azurerm_storage_queue.poison[0] } : {}

  scope                = each.value.id
  role_definition_name = "Storage Queue Data Contributor"
  principal_id         = azurerm_user_assigned_identity.pipeline[0].principal_id
  principal_type       = "ServicePrincipal"
}

# Event Grid's system topic writes dead letters with its own identity.
resource "azurerm_role_assignment" "dead_letter" {
  count = var.enable_pipeline ? 1 : 0

  scope                = azurerm_storage_container.dead_letter.id
  role_definition_name = local.blob_contributor
  principal_id         = azurerm_eventgrid_system_topic.blob[0].identity[0].principal_id
  principal_type       = "ServicePrincipal"
}

resource "time_sleep" "rbac_propagation" {
  create_duration = "60s"
  depends_on = [
    azurerm_role_assignment.data,
    azurerm_role_assignment.host,
    azurerm_role_assignment.serving_api_keys,
    azurerm_role_assignment.signing_key,
    azurerm_role_assignment.queue_sender,
    azurerm_role_assignment.queue_pipeline,
    azurerm_role_assignment.dead_letter,
  ]
}
