terraform {
  required_version = ">= 1.9"

  required_providers {
    azurerm = {
      source = "hashicorp/azurerm"
      # 4.46: the first release with storage_account_id on azurerm_storage_queue (4.42 brought
      # rbac_authorization_enabled on azurerm_key_vault; source_resource_id on the system topic
      # is older): their predecessors are deprecated. Both ends are checked against the
      # provider schemas (tests/terraform/providers).
      version = ">= 4.46, < 5.0"
    }
    time = {
      source  = "hashicorp/time"
      version = ">= 0.9"
    }
  }
}
