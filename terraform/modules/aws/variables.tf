# --- what to deploy ----------------------------------------------------------------------

variable "name" {
  description = "Deployment name: the stem of every resource name (3-22 characters, lowercase letters, digits, hyphens)."
  type        = string
}

variable "pipelines" {
  description = "Upload-triggered pipelines: name -> { prefix, suffix, suffixes }, prefixes relative to the storage root (e.g. { train = { prefix = \"landing/train/\", suffix = \".csv\" } }). Must match hookline.toml's [pipelines.*.trigger] tables."
  type = map(object({
    prefix   = string
    suffix   = optional(string, "")
    suffixes = optional(list(string), [])
  }))
  default = {}
}

variable "schedules" {
  description = "Scheduled runs: pipeline name -> EventBridge Scheduler expression (\"rate(1 day)\", \"cron(0 3 * * ? *)\"). Each sends {\"source\":\"hookline.schedule\",\"pipeline\":\"<name>\"} to the pipeline function."
  type        = map(string)
  default     = {}
}

variable "schedule_timezone" {
  description = "Time zone of the schedule expressions (IANA name)."
  type        = string
  default     = "UTC"
}

variable "enable_pipeline" {
  description = "Deploy the pipeline function and its triggers. false for a hybrid set-up that trains elsewhere and only serves here."
  type        = bool
  default     = true
}

variable "enable_serving" {
  description = "Deploy the serving function with its HTTPS endpoint."
  type        = bool
  default     = true
}

# --- storage -----------------------------------------------------------------------------

variable "bucket_name" {
  description = "S3 bucket holding the storage root: created by the module when create_bucket is true, otherwise an existing bucket."
  type        = string
}

variable "create_bucket" {
  description = "Create the bucket (encrypted, versioned, public access blocked, TLS only). false to use an existing bucket."
  type        = bool
  default     = true
}

variable "storage_prefix" {
  description = "Optional root prefix inside the bucket (HOOKLINE_STORAGE becomes s3://bucket/prefix)."
  type        = string
  default     = ""
}

variable "noncurrent_version_expiration_days" {
  description = "Days after which overwritten object versions in a created bucket are deleted."
  type        = number
  default     = 90
}

variable "kms_key_arn" {
  description = "Optional customer-managed KMS key for the bucket, the failure queue, the log groups, the secret and the functions' environment. null: AWS-managed encryption."
  type        = string
  default     = null
}

# --- code and runtime --------------------------------------------------------------------

variable "bundle_dir" {
  description = "Folder of the bundles `hookline package --cloud aws` built (e.g. \"dist/aws\"): pipeline.manifest.json and serving.manifest.json beside their artifacts. Runtime, architecture, handler, hash and format come from the manifests."
  type        = string
  default     = "dist/aws"
}

variable "artifacts_bucket" {
  description = "Existing S3 bucket the zips are uploaded to (versioning recommended). null: the module creates <bucket_name>-artifacts (versioned, encrypted, private, TLS only)."
  type        = string
  default     = null
}

variable "artifacts_prefix" {
  description = "Key prefix of the uploaded zips in the artifacts bucket (keys are <prefix><name>/<role>-<sha256>.zip)."
  type        = string
  default     = "hookline/"
}

variable "image_repository_url" {
  description = "ECR repository URL (account.dkr.ecr.region.amazonaws.com/repo) the image bundles were pushed to; the functions run <url>@<digest of the manifest>. Needed only for bundles of format image."
  type        = string
  default     = null

  validation {
    condition     = var.image_repository_url == null || can(regex("^[0-9]{12}\\.dkr\\.ecr\\.[a-z0-9-]+\\.amazonaws\\.com(\\.cn)?/[a-z0-9._/-]+$", var.image_repository_url))
    error_message = "image_repository_url must be an ECR repository URL without tag or digest, e.g. 123456789012.dkr.ecr.eu-west-1.amazonaws.com/hookline."
  }
}

variable "log_level" {
  description = "Application log level of both functions (JSON log format): INFO keeps the lines of a succeeded run."
  type        = string
  default     = "INFO"

  validation {
    condition     = contains(["TRACE", "DEBUG", "INFO", "WARN", "ERROR", "FATAL"], var.log_level)
    error_message = "log_level must be one of TRACE, DEBUG, INFO, WARN, ERROR, FATAL."
  }
}

variable "system_log_level" {
  description = "Level of the Lambda platform's own log lines (START, END, REPORT are INFO)."
  type        = string
  default     = "INFO"

  validation {
    condition     = contains(["DEBUG", "INFO", "WARN"], var.system_log_level)
    error_message = "system_log_level must be DEBUG, INFO or WARN."
  }
}

variable "config_uri" {
  description = "Optional URI of hookline.toml (HOOKLINE_CONFIG); empty uses the one bundled in the package."
  type        = string
  default     = ""
}

variable "plugins" {
  description = "Plugin names to load (HOOKLINE_PLUGINS); empty loads every installed plugin."
  type        = list(string)
  default     = []
}

variable "pipeline_memory_mb" {
  description = "Memory of the pipeline function (MB, 128-10240); CPU grows with it."
  type        = number
  default     = 3008

  validation {
    condition     = var.pipeline_memory_mb >= 128 && var.pipeline_memory_mb <= 10240
    error_message = "pipeline_memory_mb must be between 128 and 10240."
  }
}

variable "pipeline_timeout_seconds" {
  description = "Timeout of the pipeline function (seconds, at most 900)."
  type        = number
  default     = 900

  validation {
    condition     = var.pipeline_timeout_seconds >= 1 && var.pipeline_timeout_seconds <= 900
    error_message = "pipeline_timeout_seconds must be between 1 and 900 (Lambda's limit)."
  }
}

variable "pipeline_ephemeral_storage_mb" {
  description = "/tmp size of the pipeline function (MB, 512-10240)."
  type        = number
  default     = 2048

  validation {
    condition     = var.pipeline_ephemeral_storage_mb >= 512 && var.pipeline_ephemeral_storage_mb <= 10240
    error_message = "pipeline_ephemeral_storage_mb must be between 512 and 10240."
  }
}

variable "pipeline_reserved_concurrency" {
  description = "Reserved concurrency of the pipeline function; -1 leaves it unreserved."
  type        = number
  default     = -1
}

variable "serving_memory_mb" {
  description = "Memory of the serving function (MB, 128-10240)."
  type        = number
  default     = 1024

  validation {
    condition     = var.serving_memory_mb >= 128 && var.serving_memory_mb <= 10240
    error_message = "serving_memory_mb must be between 128 and 10240."
  }
}

variable "serving_timeout_seconds" {
  description = "Timeout of the serving function (seconds, at most 900)."
  type        = number
  default     = 30

  validation {
    condition     = var.serving_timeout_seconds >= 1 && var.serving_timeout_seconds <= 900
    error_message = "serving_timeout_seconds must be between 1 and 900."
  }
}

# --- triggers and failure handling -------------------------------------------------------

variable "trigger_mode" {
  description = "How uploads reach the pipeline: \"s3\" (bucket notification straight to Lambda) or \"eventbridge\" (S3 -> EventBridge rules, for buckets whose notification configuration is shared)."
  type        = string
  default     = "s3"

  validation {
    condition     = contains(["s3", "eventbridge"], var.trigger_mode)
    error_message = "trigger_mode must be \"s3\" or \"eventbridge\"."
  }
}

variable "manage_bucket_notification" {
  description = "Write the bucket's notification configuration (s3 mode: the Lambda filters; eventbridge mode: EventBridge delivery on). A bucket has ONE notification configuration: set false when it is managed elsewhere, and enable EventBridge there."
  type        = bool
  default     = true
}

variable "max_retry_attempts" {
  description = "Asynchronous retries after a failed pipeline invocation (0-2)."
  type        = number
  default     = 2

  validation {
    condition     = var.max_retry_attempts >= 0 && var.max_retry_attempts <= 2
    error_message = "max_retry_attempts must be 0, 1 or 2 (Lambda's asynchronous invocation limit)."
  }
}

variable "max_event_age_seconds" {
  description = "How long an event may wait for a (retried) pipeline invocation before it goes to the failure queue (60-21600 s)."
  type        = number
  default     = 3600

  validation {
    condition     = var.max_event_age_seconds >= 60 && var.max_event_age_seconds <= 21600
    error_message = "max_event_age_seconds must be between 60 and 21600."
  }
}

variable "failure_retention_seconds" {
  description = "How long failed events stay in the failure queue (60-1209600 s)."
  type        = number
  default     = 1209600

  validation {
    condition     = var.failure_retention_seconds >= 60 && var.failure_retention_seconds <= 1209600
    error_message = "failure_retention_seconds must be between 60 and 1209600 (14 days)."
  }
}

variable "alarm_actions" {
  description = "ARNs (e.g. SNS topics) notified by the alarms: failure queue not empty, failed runs, rejected runs, no successful training."
  type        = list(string)
  default     = []
}

variable "log_retention_days" {
  description = "Retention of the functions' CloudWatch log groups."
  type        = number
  default     = 30

  validation {
    condition     = contains([1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653], var.log_retention_days)
    error_message = "log_retention_days must be one of CloudWatch's retention values (1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653)."
  }
}

variable "alarm_on_rejected_runs" {
  description = "Alarm when a run is rejected (its candidate failed a gate): metric RunRejected."
  type        = bool
  default     = true
}

variable "max_days_without_training" {
  description = "Alarm when a pipeline has had no successful run (RunSucceeded) for this many days; 0 disables. CloudWatch evaluates at most 7 daily periods."
  type        = number
  default     = 7

  validation {
    condition     = var.max_days_without_training >= 0 && var.max_days_without_training <= 7 && floor(var.max_days_without_training) == var.max_days_without_training
    error_message = "max_days_without_training must be a whole number of days from 0 (off) to 7 (CloudWatch alarms evaluate at most seven one-day periods)."
  }
}

variable "metrics_project" {
  description = "Value of the Project dimension of hookline's run metrics (namespace hookline) that the alarms watch; null: the `project` of the bundle manifest (the `[project] name` of the bundled hookline.toml), else the deployment name."
  type        = string
  default     = null
}

# --- serving -----------------------------------------------------------------------------

variable "serving_auth_type" {
  description = "Function URL auth: \"AWS_IAM\" (callers sign requests with SigV4) or \"NONE\" (public URL; then rely on the API keys)."
  type        = string
  default     = "AWS_IAM"

  validation {
    condition     = contains(["AWS_IAM", "NONE"], var.serving_auth_type)
    error_message = "serving_auth_type must be \"AWS_IAM\" or \"NONE\"."
  }
}

variable "serving_cors_origins" {
  description = "Origins allowed to call the serving URL from a browser; empty disables CORS."
  type        = list(string)
  default     = []
}

variable "api_keys_secret_arn" {
  description = "ARN of an existing Secrets Manager secret with the serving API keys. null: the module creates an empty secret for you to fill."
  type        = string
  default     = null
}

variable "signing_key_secret_arn" {
  description = "Existing Secrets Manager secret holding the registry signing key (HOOKLINE_SIGNING_KEY_SECRET for both functions). null: see create_signing_key_secret."
  type        = string
  default     = null
}

variable "create_signing_key_secret" {
  description = "Create an empty secret for the registry signing key (set its value before the first run) and give both functions read access to it."
  type        = bool
  default     = false
}

variable "admin_keys_secret_arn" {
  description = "Existing Secrets Manager secret holding the administration keys (HOOKLINE_ADMIN_KEYS_SECRET for the serving function). null: see create_admin_keys_secret."
  type        = string
  default     = null
}

variable "create_admin_keys_secret" {
  description = "Create an empty secret for the administration keys (promote, rollback) and give the serving function read access to it."
  type        = bool
  default     = false
}

variable "tags" {
  description = "Tags applied to every resource."
  type        = map(string)
  default     = {}
}
