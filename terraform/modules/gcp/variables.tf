# --- what to deploy ----------------------------------------------------------------------

variable "project_id" {
  description = "GCP project to deploy into."
  type        = string
}

variable "region" {
  description = "Region of the functions, and of the bucket the module creates. A Cloud Storage trigger must be in the bucket's location, so use a single-region bucket here."
  type        = string
}

variable "name" {
  description = "Deployment name: the stem of every resource name (3-22 characters, lowercase letters, digits, hyphens)."
  type        = string
}

variable "pipelines" {
  description = "Upload-triggered pipelines: name -> { prefix, suffix, suffixes }, prefixes relative to the storage root. Must match hookline.toml's [pipelines.*.trigger] tables. (Cloud Storage triggers cannot filter by prefix: see README.)"
  type = map(object({
    prefix   = string
    suffix   = optional(string, "")
    suffixes = optional(list(string), [])
  }))
  default = {}
}

variable "schedules" {
  description = "Scheduled runs: pipeline name -> Cloud Scheduler unix cron (\"0 3 * * *\"). Each POSTs a CloudEvent of type hookline.schedule with data {\"pipeline\": \"<name>\"} to the pipeline function."
  type        = map(string)
  default     = {}
}

variable "schedule_timezone" {
  description = "Time zone of the schedules (IANA name)."
  type        = string
  default     = "Etc/UTC"
}

variable "enable_pipeline" {
  description = "Deploy the pipeline function and its trigger. false for a hybrid set-up that trains elsewhere."
  type        = bool
  default     = true
}

variable "enable_serving" {
  description = "Deploy the serving function with its HTTPS endpoint."
  type        = bool
  default     = true
}

variable "enable_apis" {
  description = "Enable the Google APIs the module needs (never disabled on destroy)."
  type        = bool
  default     = true
}

variable "iam_propagation_wait" {
  description = "Pause after granting the Eventarc and build roles, before creating the functions: IAM changes take a while to propagate on a fresh project."
  type        = string
  default     = "90s"
}

# --- storage -----------------------------------------------------------------------------

variable "bucket_name" {
  description = "Cloud Storage bucket holding the storage root: created when create_bucket is true, otherwise existing (it must have uniform bucket-level access, since the prefix conditions are IAM conditions)."
  type        = string
}

variable "create_bucket" {
  description = "Create the bucket (uniform access, public access prevention enforced, versioned)."
  type        = bool
  default     = true
}

variable "storage_prefix" {
  description = "Optional root prefix inside the bucket (HOOKLINE_STORAGE becomes gs://bucket/prefix)."
  type        = string
  default     = ""
}

variable "noncurrent_version_expiration_days" {
  description = "Days after which overwritten object versions in a created bucket are deleted."
  type        = number
  default     = 90
}

variable "kms_key_name" {
  description = "Optional Cloud KMS key for the buckets the module creates. null: Google-managed encryption."
  type        = string
  default     = null
}

# --- code and runtime --------------------------------------------------------------------

variable "bundle_dir" {
  description = "Folder of the bundle `hookline package --cloud gcp` built (e.g. \"dist/gcp\"): source.manifest.json beside source.zip. Runtime and entry points come from the manifest."
  type        = string
  default     = "dist/gcp"
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

variable "pipeline_memory" {
  description = "Memory of the pipeline function (e.g. \"2Gi\", \"4Gi\")."
  type        = string
  default     = "4Gi"

  validation {
    condition     = can(regex("^[0-9]+(M|Mi|G|Gi)$", var.pipeline_memory))
    error_message = "pipeline_memory must look like \"512M\", \"2Gi\" or \"4Gi\"."
  }
}

variable "pipeline_cpu" {
  description = "vCPUs of the pipeline function (4Gi and up need at least 2)."
  type        = string
  default     = "2"
}

variable "pipeline_timeout_seconds" {
  description = "Timeout of the pipeline function (event-driven functions: at most 540 s)."
  type        = number
  default     = 540

  validation {
    condition     = var.pipeline_timeout_seconds >= 1 && var.pipeline_timeout_seconds <= 540
    error_message = "pipeline_timeout_seconds must be between 1 and 540 (the limit for event-driven functions)."
  }
}

variable "pipeline_max_instances" {
  description = "Most concurrent instances of the pipeline function."
  type        = number
  default     = 10
}

variable "pipeline_ingress" {
  description = "Ingress of the pipeline function. Eventarc and Cloud Scheduler in the same project count as internal traffic."
  type        = string
  default     = "ALLOW_INTERNAL_ONLY"

  validation {
    condition     = contains(["ALLOW_INTERNAL_ONLY", "ALLOW_INTERNAL_AND_GCLB", "ALLOW_ALL"], var.pipeline_ingress)
    error_message = "pipeline_ingress must be ALLOW_INTERNAL_ONLY, ALLOW_INTERNAL_AND_GCLB or ALLOW_ALL."
  }
}

variable "serving_memory" {
  description = "Memory of the serving function."
  type        = string
  default     = "1Gi"

  validation {
    condition     = can(regex("^[0-9]+(M|Mi|G|Gi)$", var.serving_memory))
    error_message = "serving_memory must look like \"512M\" or \"1Gi\"."
  }
}

variable "serving_timeout_seconds" {
  description = "Timeout of the serving function (seconds, at most 3600)."
  type        = number
  default     = 60

  validation {
    condition     = var.serving_timeout_seconds >= 1 && var.serving_timeout_seconds <= 3600
    error_message = "serving_timeout_seconds must be between 1 and 3600."
  }
}

variable "serving_max_instances" {
  description = "Most concurrent instances of the serving function."
  type        = number
  default     = 10
}

# --- failure handling --------------------------------------------------------------------

variable "retry_on_failure" {
  description = "Retry failed pipeline events (RETRY_POLICY_RETRY). Off, a failed event is dropped silently; on, it is retried with backoff for up to 24 hours. Permanent failures return normally and are not retried."
  type        = bool
  default     = true
}

variable "alert_notification_channels" {
  description = "Cloud Monitoring notification channel ids alerted when hookline logs errors, a run fails or is rejected, or no run succeeds for max_days_without_training days."
  type        = list(string)
  default     = []
}

variable "log_retention_days" {
  description = "Retention of the log bucket that receives the functions' logs."
  type        = number
  default     = 30

  validation {
    condition     = var.log_retention_days >= 1 && var.log_retention_days <= 3650
    error_message = "log_retention_days must be between 1 and 3650."
  }
}

variable "alarm_on_rejected_runs" {
  description = "Alert when a run is rejected (its candidate failed a gate)."
  type        = bool
  default     = true
}

variable "max_days_without_training" {
  description = "Alert when a pipeline has had no successful run for this many days; 0 disables."
  type        = number
  default     = 7

  validation {
    condition     = var.max_days_without_training >= 0 && var.max_days_without_training <= 90 && floor(var.max_days_without_training) == var.max_days_without_training
    error_message = "max_days_without_training must be a whole number of days from 0 (off) to 90."
  }
}

# --- serving -----------------------------------------------------------------------------

variable "serving_invokers" {
  description = "IAM members allowed to call the serving endpoint (e.g. \"serviceAccount:app@p.iam.gserviceaccount.com\"). Callers send an identity token."
  type        = list(string)
  default     = []
}

variable "serving_public" {
  description = "Let anyone call the serving endpoint (allUsers); the app then relies on its API keys."
  type        = bool
  default     = false
}

variable "api_keys_secret_id" {
  description = "Existing Secret Manager secret id (short name) with the serving API keys. null: the module creates an empty secret for you to fill."
  type        = string
  default     = null
}

variable "signing_key_secret_id" {
  description = "Existing Secret Manager secret id (short name) with the registry signing key (HOOKLINE_SIGNING_KEY_SECRET, both functions, which get read access). null: see create_signing_key_secret."
  type        = string
  default     = null
}

variable "create_signing_key_secret" {
  description = "Create the secret <name>-registry-signing-key (add a version with the key yourself) and give both functions read access to it."
  type        = bool
  default     = false
}

variable "admin_keys_secret_id" {
  description = "Existing Secret Manager secret id (short name) with the administration keys (HOOKLINE_ADMIN_KEYS_SECRET, serving function, which gets read access). null: see create_admin_keys_secret."
  type        = string
  default     = null
}

variable "create_admin_keys_secret" {
  description = "Create the secret <name>-admin-keys (add a version yourself) and give the serving function read access to it."
  type        = bool
  default     = false
}

variable "labels" {
  description = "Labels applied to the resources that take them."
  type        = map(string)
  default     = {}
}
