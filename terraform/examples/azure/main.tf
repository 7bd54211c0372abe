# hookline on Azure, end to end: `hookline package --cloud azure`, then `terraform apply` here.

terraform {
  required_version = ">= 1.9"
  required_providers {
    azurerm = {
      source  = "hashicorp/azurerm"
      version = ">= 4.46, < 5.0"
    }
    time = {
      source  = "hashicorp/time"
      version = ">= 0.9"
    }
  }
}

provider "azurerm" {
  features {}
  subscription_id = var.subscription_id
  # The module disables shared keys on its storage accounts: use Entra ID for data-plane calls.
  storage_use_azuread = true
}

variable "subscription_id" {
  description = "Azure subscription id."
  type        = string
}

variable "location" {
  description = "Azure region."
  type        = string
  default     = "westeurope"
}

variable "storage_account_name" {
  description = "Globally unique storage account name (3-24 lowercase letters and digits)."
  type        = string
}

variable "alert_emails" {
  description = "Who hears about dead-lettered events."
  type        = list(string)
  default     = []
}

variable "bundle_dir" {
  description = "Where `hookline package --cloud azure --out dist` wrote the bundles and their manifests, relative to this folder."
  type        = string
  default     = "../../../dist/azure"
}

module "hookline" {
  source = "../../modules/azure"

  name                 = "hookline-quickstart"
  location             = var.location
  resource_group_name  = "hookline-quickstart"
  storage_account_name = var.storage_account_name

  # The triggers of examples/quickstart/hookline.toml.
  pipelines = {
    train = { prefix = "landing/train/", suffix = ".csv" }
    score = { prefix = "landing/score/", suffix = ".csv" }
  }
  schedules = {}

  bundle_dir   = var.bundle_dir
  alert_emails = var.alert_emails
}

output "storage_uri" {
  value = module.hookline.storage_uri
}

output "storage_account_url" {
  value = module.hookline.storage_account_url
}

output "serving_url" {
  value = module.hookline.serving_url
}

output "dead_letter_container" {
  value = module.hookline.dead_letter_container
}

output "key_vault_name" {
  value = module.hookline.key_vault_name
}
