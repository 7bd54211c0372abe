terraform {
  required_version = ">= 1.9"

  required_providers {
    azurerm = {
      source = "hashicorp/azurerm"
      # storage_account_id on azurerm_storage_container; conditions on role assignments;
      # dead_letter_identity on system topic subscriptions.
      version = ">= 4.14, < 5.0"
    }
    time = {
      source  = "hashicorp/time"
      version = ">= 0.9"
    }
  }
}
