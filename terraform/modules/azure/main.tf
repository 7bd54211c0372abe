# hookline on Azure: Blob storage root, pipeline and serving function apps (run from package),
# Event Grid BlobCreated subscriptions with dead-lettering, ABAC-scoped identities.

module "common" {
  source = "../common"

  cloud          = "azure"
  name           = var.name
  bucket         = var.container_name
  storage_prefix = var.storage_prefix
  pipelines      = var.pipelines
  schedules      = var.schedules
  config_uri     = var.config_uri
  plugins        = var.plugins
  unique_seed    = "${var.resource_group_name}/${var.storage_account_name}"
}

data "azurerm_client_config" "current" {}

locals {
  names      = module.common.names
  rg         = var.create_resource_group ? azurerm_resource_group.this[0].name : var.resource_group_name
  triggers   = var.enable_pipeline ? module.common.triggers : {}
  schedule   = var.enable_pipeline ? module.common.schedule_payloads : {}
  data_id    = var.create_storage_account ? azurerm_storage_account.data[0].id : data.azurerm_storage_account.data[0].id
  data_blob  = var.create_storage_account ? azurerm_storage_account.data[0].primary_blob_endpoint : data.azurerm_storage_account.data[0].primary_blob_endpoint
  data_queue = var.create_storage_account ? azurerm_storage_account.data[0].primary_queue_endpoint : data.azurerm_storage_account.data[0].primary_queue_endpoint
  # Secrets (values never in Terraform): the serving vault holds what only the serving app reads
  # (API keys, administration keys); the signing vault the registry signing key, read by both.
  serving_vault = var.enable_serving && (var.api_keys_secret_uri == null || (var.admin_keys_secret_uri == null && var.create_admin_keys_secret))
  signing_vault = var.signing_key_secret_uri == null && var.create_signing_key_secret
  signing_key   = var.signing_key_secret_uri != null || var.create_signing_key_secret
  admin_keys    = var.enable_serving && (var.admin_keys_secret_uri != null || var.create_admin_keys_secret)
  api_keys_secret_uri = var.api_keys_secret_uri != null ? var.api_keys_secret_uri : (
    var.enable_serving ? "${azurerm_key_vault.this[0].vault_uri}secrets/hookline-api-keys" : null
  )
  admin_keys_secret_uri = var.admin_keys_secret_uri != null ? var.admin_keys_secret_uri : (
    local.admin_keys ? "${azurerm_key_vault.this[0].vault_uri}secrets/hookline-admin-keys" : null
  )
  signing_key_secret_uri = var.signing_key_secret_uri != null ? var.signing_key_secret_uri : (
    local.signing_vault ? "${azurerm_key_vault.signing[0].vault_uri}secrets/hookline-signing-key" : null
  )
  function_secrets = {
    pipeline = local.signing_key ? { HOOKLINE_SIGNING_KEY_SECRET = local.signing_key_secret_uri } : {}
    serving = merge(
      { HOOKLINE_API_KEYS_SECRET = local.api_keys_secret_uri },
      local.signing_key ? { HOOKLINE_SIGNING_KEY_SECRET = local.signing_key_secret_uri } : {},
      local.admin_keys ? { HOOKLINE_ADMIN_KEYS_SECRET = local.admin_keys_secret_uri } : {},
    )
  }
  # Storage Blob Data role definitions by name.
  blob_reader      = "Storage Blob Data Reader"
  blob_contributor = "Storage Blob Data Contributor"
}

resource "azurerm_resource_group" "this" {
  count = var.create_resource_group ? 1 : 0

  name     = var.resource_group_name
  location = var.location
  tags     = var.tags
}

# --- the data storage account (storage root) ---------------------------------------------

resource "azurerm_storage_account" "data" {
  count = var.create_storage_account ? 1 : 0
  #checkov:skip=CKV_AZURE_59:The function apps reach storage over the public endpoint (no VNet integration by default); shared keys are disabled and every caller is an Entra identity scoped by ABAC.
  #checkov:skip=CKV2_AZURE_33:Private endpoints need a VNet the operator owns; see README (Network isolation).
  #checkov:skip=CKV2_AZURE_1:Microsoft-managed keys with infrastructure encryption; customer-managed keys are an operator choice.
  #checkov:skip=CKV_AZURE_33:Queue reads, writes and deletes are logged by azurerm_monitor_diagnostic_setting.data_queue; classic queue logging needs the shared keys this account disables.
  #checkov:skip=CKV2_AZURE_41:Shared keys are disabled, so no SAS can be issued.

  name                              = var.storage_account_name
  resource_group_name               = local.rg
  location                          = var.location
  account_tier                      = "Standard"
  account_replication_type          = var.storage_replication_type
  account_kind                      = "StorageV2"
  min_tls_version                   = "TLS1_2"
  https_traffic_only_enabled        = true
  allow_nested_items_to_be_public   = false
  shared_access_key_enabled         = false
  default_to_oauth_authentication   = true
  infrastructure_encryption_enabled = true
  local_user_enabled                = false
  tags                              = var.tags

  blob_properties {
    # Run records name the exact blob version that triggered them.
    versioning_enabled = true
    delete_retention_policy {
      days = 14
    }
    container_delete_retention_policy {
      days = 14
    }
  }
}

data "azurerm_storage_account" "data" {
  count = var.create_storage_account ? 0 : 1

  name                = var.storage_account_name
  resource_group_name = local.rg
}

resource "azurerm_storage_container" "data" {
  #checkov:skip=CKV2_AZURE_21:Blob reads, writes and deletes are logged by azurerm_monitor_diagnostic_setting.data_blob; Storage Insights would need the shared keys this module disables.
  name                  = var.container_name
  storage_account_id    = local.data_id
  container_access_type = "private"
}

# Audit trail of data access: every read, write and delete on the storage root's blobs.
resource "azurerm_monitor_diagnostic_setting" "data_blob" {
  name                       = "${var.name}-blob-audit"
  target_resource_id         = "${local.data_id}/blobServices/default"
  log_analytics_workspace_id = azurerm_log_analytics_workspace.this.id

  enabled_log {
    category = "StorageRead"
  }
  enabled_log {
    category = "StorageWrite"
  }
  enabled_log {
    category = "StorageDelete"
  }
}

# The same for the events queue: messages written by Event Grid, read and deleted by the pipeline.
resource "azurerm_monitor_diagnostic_setting" "data_queue" {
  count = var.enable_pipeline ? 1 : 0

  name                       = "${var.name}-queue-audit"
  target_resource_id         = "${local.data_id}/queueServices/default"
  log_analytics_workspace_id = azurerm_log_analytics_workspace.this.id

  enabled_log {
    category = "StorageRead"
  }
  enabled_log {
    category = "StorageWrite"
  }
  enabled_log {
    category = "StorageDelete"
  }
}

# --- the host storage account (functions runtime, packages, dead letters) ----------------

resource "azurerm_storage_account" "host" {
  #checkov:skip=CKV_AZURE_59:The Functions host reaches its storage over the public endpoint without VNet integration; shared keys are disabled.
  #checkov:skip=CKV2_AZURE_33:Private endpoints need a VNet the operator owns.
  #checkov:skip=CKV2_AZURE_1:Microsoft-managed keys with infrastructure encryption.
  #checkov:skip=CKV_AZURE_33:Queue logging is not needed for the runtime's own bookkeeping queues.
  #checkov:skip=CKV2_AZURE_41:Shared keys are disabled, so no SAS can be issued.
  #checkov:skip=CKV_AZURE_206:Holds only runtime state, packages rebuilt from dist/ and dead letters; LRS is enough.

  name                              = local.names.azure_host_storage
  resource_group_name               = local.rg
  location                          = var.location
  account_tier                      = "Standard"
  account_replication_type          = "LRS"
  account_kind                      = "StorageV2"
  min_tls_version                   = "TLS1_2"
  https_traffic_only_enabled        = true
  allow_nested_items_to_be_public   = false
  shared_access_key_enabled         = false
  default_to_oauth_authentication   = true
  infrastructure_encryption_enabled = true
  local_user_enabled                = false
  tags                              = var.tags

  blob_properties {
    delete_retention_policy {
      days = 7
    }
    container_delete_retention_policy {
      days = 7
    }
  }
}

resource "azurerm_storage_container" "packages" {
  #checkov:skip=CKV2_AZURE_21:Only the app identities read packages; the data account's blob reads are logged (azurerm_monitor_diagnostic_setting.data_blob).
  name                  = "deployments"
  storage_account_id    = azurerm_storage_account.host.id
  container_access_type = "private"
}

# Events Event Grid could not deliver after all attempts land here as JSON blobs.
resource "azurerm_storage_container" "dead_letter" {
  #checkov:skip=CKV2_AZURE_21:Written by Event Grid and read by operators; the data account's blob reads are logged.
  name                  = "deadletter"
  storage_account_id    = azurerm_storage_account.host.id
  container_access_type = "private"
}

# Uploading the packages needs data-plane access for whoever runs Terraform
# (provider setting storage_use_azuread = true, since shared keys are off).
resource "azurerm_role_assignment" "deployer_packages" {
  scope                = azurerm_storage_container.packages.id
  role_definition_name = local.blob_contributor
  principal_id         = data.azurerm_client_config.current.object_id
}

resource "time_sleep" "deployer_role" {
  create_duration = "30s"
  depends_on      = [azurerm_role_assignment.deployer_packages]
}

# --- monitoring and log retention --------------------------------------------------------

resource "azurerm_log_analytics_workspace" "this" {
  name                = "${var.name}-logs"
  resource_group_name = local.rg
  location            = var.location
  sku                 = "PerGB2018"
  retention_in_days   = var.log_retention_days
  tags                = var.tags
}

resource "azurerm_application_insights" "this" {
  name                = "${var.name}-insights"
  resource_group_name = local.rg
  location            = var.location
  application_type    = "other"
  workspace_id        = azurerm_log_analytics_workspace.this.id
  # Application Insights accepts only these retention values (validated on log_retention_days).
  retention_in_days = var.log_retention_days
  tags              = var.tags
}

resource "azurerm_monitor_action_group" "alerts" {
  count = length(var.alert_emails) > 0 ? 1 : 0

  name                = "${var.name}-alerts"
  resource_group_name = local.rg
  short_name          = substr(replace(var.name, "-", ""), 0, 12)
  tags                = var.tags

  dynamic "email_receiver" {
    for_each = var.alert_emails
    content {
      name          = "email-${email_receiver.key}"
      email_address = email_receiver.value
    }
  }
}

# --- secrets: the vaults (add the secret values yourself) ---------------------------------

resource "azurerm_key_vault" "this" {
  count = local.serving_vault ? 1 : 0
  #checkov:skip=CKV_AZURE_109:The serving app reads the vault over its public endpoint (no VNet integration by default); RBAC limits who can read.
  #checkov:skip=CKV_AZURE_189:As above: public network access is needed without VNet integration.
  #checkov:skip=CKV2_AZURE_32:Private endpoints need a VNet the operator owns.

  name                       = local.names.azure_key_vault
  resource_group_name        = local.rg
  location                   = var.location
  tenant_id                  = data.azurerm_client_config.current.tenant_id
  sku_name                   = "standard"
  rbac_authorization_enabled = true
  purge_protection_enabled   = true
  soft_delete_retention_days = 7
  tags                       = var.tags
}

resource "azurerm_key_vault" "signing" {
  count = local.signing_vault ? 1 : 0
  #checkov:skip=CKV_AZURE_109:Both apps read the vault over its public endpoint (no VNet integration by default); RBAC limits who can read.
  #checkov:skip=CKV_AZURE_189:As above: public network access is needed without VNet integration.
  #checkov:skip=CKV2_AZURE_32:Private endpoints need a VNet the operator owns.

  name                       = local.names.azure_signing_vault
  resource_group_name        = local.rg
  location                   = var.location
  tenant_id                  = data.azurerm_client_config.current.tenant_id
  sku_name                   = "standard"
  rbac_authorization_enabled = true
  purge_protection_enabled   = true
  soft_delete_retention_days = 7
  tags                       = var.tags
}
