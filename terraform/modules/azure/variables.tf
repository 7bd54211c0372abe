# --- what to deploy ----------------------------------------------------------------------

variable "name" {
  description = "Deployment name: the stem of every resource name (3-22 characters, lowercase letters, digits, hyphens)."
  type        = string
}

variable "location" {
  description = "Azure region (also the region of the storage account the module creates)."
  type        = string
}

variable "resource_group_name" {
  description = "Resource group for everything the module creates."
  type        = string
}

variable "create_resource_group" {
  description = "Create the resource group; false to use an existing one."
  type        = bool
  default     = true
}

variable "pipelines" {
  description = "Upload-triggered pipelines: name -> { prefix, suffix, suffixes }, prefixes relative to the storage root. Must match hookline.toml's [pipelines.*.trigger] tables."
  type = map(object({
    prefix   = string
    suffix   = optional(string, "")
    suffixes = optional(list(string), [])
  }))
  default = {}
}

variable "schedules" {
  description = "At most one scheduled run: pipeline name -> NCRONTAB expression with seconds (\"0 0 3 * * *\"). Sets HOOKLINE_SCHEDULED_PIPELINE and HOOKLINE_SCHEDULE, which the pipeline app's timer function reads."
  type        = map(string)
  default     = {}
}

variable "enable_pipeline" {
  description = "Deploy the pipeline function app and its Event Grid trigger. false for a hybrid set-up that trains elsewhere."
  type        = bool
  default     = true
}

variable "enable_serving" {
  description = "Deploy the serving function app (HTTP)."
  type        = bool
  default     = true
}

# --- storage -----------------------------------------------------------------------------

variable "storage_account_name" {
  description = "Storage account holding the storage root (3-24 lowercase letters and digits): created when create_storage_account is true, otherwise existing, in resource_group_name."
  type        = string
}

variable "create_storage_account" {
  description = "Create the storage account (TLS 1.2, no public blobs, no shared keys, versioning, soft delete)."
  type        = bool
  default     = true
}

variable "storage_replication_type" {
  description = "Replication of the storage account the module creates."
  type        = string
  default     = "GRS"
}

variable "container_name" {
  description = "Blob container holding the storage root (HOOKLINE_STORAGE = az://<container>[/prefix])."
  type        = string
  default     = "hookline"
}

variable "storage_prefix" {
  description = "Optional root prefix inside the container."
  type        = string
  default     = ""
}

# --- code and runtime --------------------------------------------------------------------

variable "pipeline_package" {
  description = "Path of the pipeline run-from-package zip built by `hookline package --cloud azure` (dist/azure/pipeline.zip)."
  type        = string
  default     = "dist/azure/pipeline.zip"
}

variable "serving_package" {
  description = "Path of the serving run-from-package zip (dist/azure/serving.zip)."
  type        = string
  default     = "dist/azure/serving.zip"
}

variable "python_version" {
  description = "Python version of the function apps."
  type        = string
  default     = "3.11"

  validation {
    condition     = contains(["3.11", "3.12"], var.python_version)
    error_message = "python_version must be 3.11 or 3.12."
  }
}

variable "config_uri" {
  description = "Optional URI of hookline.toml (HOOKLINE_CONFIG); empty uses the bundled one."
  type        = string
  default     = ""
}

variable "plugins" {
  description = "Plugin names to load (HOOKLINE_PLUGINS); empty loads every installed plugin."
  type        = list(string)
  default     = []
}

variable "service_plan_sku" {
  description = "App Service plan of both apps: Elastic Premium (EP1: 3.5 GB, EP2: 7 GB, EP3: 14 GB) or dedicated (P1v3...). Memory grows with the plan."
  type        = string
  default     = "EP1"

  validation {
    condition     = contains(["EP1", "EP2", "EP3", "P0v3", "P1v3", "P2v3", "P3v3"], var.service_plan_sku)
    error_message = "service_plan_sku must be EP1, EP2, EP3 or P0v3-P3v3. Linux Consumption (Y1) is not offered: its 10-minute and 1.5 GB limits are too small for training."
  }
}

variable "maximum_elastic_worker_count" {
  description = "Most instances the Elastic Premium plan scales out to."
  type        = number
  default     = 5
}

variable "pipeline_timeout_minutes" {
  description = "functionTimeout of the pipeline app (minutes). Event Grid deliveries are HTTP calls answered after the run, so keep runs well inside this."
  type        = number
  default     = 30

  validation {
    condition     = var.pipeline_timeout_minutes >= 1 && var.pipeline_timeout_minutes <= 120
    error_message = "pipeline_timeout_minutes must be between 1 and 120."
  }
}

variable "serving_timeout_minutes" {
  description = "functionTimeout of the serving app (minutes)."
  type        = number
  default     = 5

  validation {
    condition     = var.serving_timeout_minutes >= 1 && var.serving_timeout_minutes <= 30
    error_message = "serving_timeout_minutes must be between 1 and 30."
  }
}

variable "function_indexing_wait" {
  description = "Pause between creating the pipeline app and subscribing it to Event Grid: the subscription is validated against the indexed pipeline_event_grid function."
  type        = string
  default     = "120s"
}

# --- failure handling --------------------------------------------------------------------

variable "max_delivery_attempts" {
  description = "Event Grid delivery attempts to the pipeline function before the event is dead-lettered (1-30)."
  type        = number
  default     = 10

  validation {
    condition     = var.max_delivery_attempts >= 1 && var.max_delivery_attempts <= 30
    error_message = "max_delivery_attempts must be between 1 and 30."
  }
}

variable "event_time_to_live_minutes" {
  description = "How long Event Grid keeps retrying an event before dead-lettering it (1-1440 minutes)."
  type        = number
  default     = 1440

  validation {
    condition     = var.event_time_to_live_minutes >= 1 && var.event_time_to_live_minutes <= 1440
    error_message = "event_time_to_live_minutes must be between 1 and 1440."
  }
}

variable "alert_emails" {
  description = "E-mail addresses alerted when an event is dead-lettered or dropped."
  type        = list(string)
  default     = []
}

variable "log_retention_days" {
  description = "Retention of the Log Analytics workspace behind Application Insights (30-730 days)."
  type        = number
  default     = 30

  validation {
    condition     = var.log_retention_days >= 30 && var.log_retention_days <= 730
    error_message = "log_retention_days must be between 30 and 730."
  }
}

# --- serving -----------------------------------------------------------------------------

variable "api_keys_secret_uri" {
  description = "Versionless URI of an existing Key Vault secret with the serving API keys. null: the module creates a Key Vault; add the secret `hookline-api-keys` to it."
  type        = string
  default     = null
}

variable "tags" {
  description = "Tags applied to every resource."
  type        = map(string)
  default     = {}
}
