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

variable "bundle_dir" {
  description = "Folder of the bundles `hookline package --cloud azure` built (e.g. \"dist/azure\"): pipeline.manifest.json and serving.manifest.json beside their zips. The apps' Python version and packages come from the manifests."
  type        = string
  default     = "dist/azure"
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

variable "events_queue_name" {
  description = "Storage queue in the data account that Event Grid writes upload events to and the pipeline app's queue trigger reads (HOOKLINE_EVENTS_QUEUE); failed messages move to <name>-poison."
  type        = string
  default     = "hookline-events"

  validation {
    condition     = can(regex("^[a-z0-9][a-z0-9-]{1,55}[a-z0-9]$", var.events_queue_name)) && !strcontains(var.events_queue_name, "--")
    error_message = "events_queue_name must be 3-57 lowercase letters, digits and single hyphens (Azure queue names; 7 characters are kept for the -poison suffix)."
  }
}

variable "queue_message_ttl_seconds" {
  description = "How long an upload event waits in the queue for the pipeline app (seconds; -1: never expires)."
  type        = number
  default     = 604800
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
  description = "E-mail addresses alerted when an event is dead-lettered or dropped, a run fails or is rejected, or no run succeeds for max_days_without_training days."
  type        = list(string)
  default     = []
}

variable "log_retention_days" {
  description = "Retention of Application Insights and the Log Analytics workspace behind it: one of 30, 60, 90, 120, 180, 270, 365, 550, 730 days (the values Application Insights accepts)."
  type        = number
  default     = 30

  validation {
    condition     = contains([30, 60, 90, 120, 180, 270, 365, 550, 730], var.log_retention_days)
    error_message = "log_retention_days must be one of 30, 60, 90, 120, 180, 270, 365, 550, 730: the retention values Application Insights accepts."
  }
}

variable "alarm_on_rejected_runs" {
  description = "Alert when a run is rejected (its candidate failed a gate)."
  type        = bool
  default     = true
}

variable "max_days_without_training" {
  description = "Alert when a pipeline has had no successful run for this many days; 0 disables. Log alerts evaluate at most 6 daily periods."
  type        = number
  default     = 6

  validation {
    condition     = var.max_days_without_training >= 0 && var.max_days_without_training <= 6 && floor(var.max_days_without_training) == var.max_days_without_training
    error_message = "max_days_without_training must be a whole number of days from 0 (off) to 6 (Azure log alerts evaluate at most six periods)."
  }
}

# --- serving -----------------------------------------------------------------------------

variable "api_keys_secret_uri" {
  description = "Versionless URI of an existing Key Vault secret with the serving API keys. null: the module creates a Key Vault; add the secret `hookline-api-keys` to it."
  type        = string
  default     = null
}

variable "admin_keys_secret_uri" {
  description = "Versionless URI of an existing Key Vault secret with the administration keys (HOOKLINE_ADMIN_KEYS_SECRET, serving app); grant its identity read access yourself. null: see create_admin_keys_secret."
  type        = string
  default     = null
}

variable "create_admin_keys_secret" {
  description = "Name the secret `hookline-admin-keys` in the serving vault (the module's Key Vault, read only by the serving app) as the administration keys; add its value yourself."
  type        = bool
  default     = false
}

variable "signing_key_secret_uri" {
  description = "Versionless URI of an existing Key Vault secret with the registry signing key (HOOKLINE_SIGNING_KEY_SECRET, both apps); grant the identities read access yourself. null: see create_signing_key_secret."
  type        = string
  default     = null
}

variable "create_signing_key_secret" {
  description = "Create a Key Vault for the registry signing key (read by both apps, nothing else in it) and point both apps at its secret `hookline-signing-key`; add its value yourself."
  type        = bool
  default     = false
}

variable "tags" {
  description = "Tags applied to every resource."
  type        = map(string)
  default     = {}
}
