variable "cloud" {
  description = "Target cloud: aws, gcp or azure. Selects the URI scheme, the schedule syntax and the name limits."
  type        = string

  validation {
    condition     = contains(["aws", "gcp", "azure"], var.cloud)
    error_message = "cloud must be one of aws, gcp, azure; got \"${var.cloud}\"."
  }
}

variable "name" {
  description = "Deployment name, used as the stem of every resource name (3-22 characters: lowercase letters, digits, hyphens; starts with a letter)."
  type        = string

  validation {
    condition     = can(regex("^[a-z][a-z0-9-]{1,20}[a-z0-9]$", var.name))
    error_message = "name \"${var.name}\" is not usable as a resource name stem: use 3-22 characters, lowercase letters, digits and hyphens, starting with a letter and not ending with a hyphen (e.g. \"hookline-demo\")."
  }
}

variable "bucket" {
  description = "Bucket (S3, GCS) or blob container (Azure) that holds the storage root."
  type        = string

  validation {
    condition     = can(regex("^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$", var.bucket))
    error_message = "bucket \"${var.bucket}\" is not a valid bucket or container name: 3-63 characters, lowercase letters, digits, dots and hyphens, starting and ending with a letter or digit."
  }
}

variable "storage_prefix" {
  description = "Optional root prefix of the storage root inside the bucket (e.g. \"team-a\" gives s3://bucket/team-a). Empty for the bucket's top level."
  type        = string
  default     = ""

  validation {
    condition = var.storage_prefix == "" || (
      !startswith(var.storage_prefix, "/") &&
      !strcontains(var.storage_prefix, "//") &&
      !can(regex("(^|/)\\.\\.?(/|$)", var.storage_prefix)) &&
      !can(regex("[*?\\[\\]\\\\[:cntrl:]]", var.storage_prefix))
    )
    error_message = "storage_prefix \"${var.storage_prefix}\" must be a relative key prefix such as \"team-a\" or \"team-a/ml\": no leading \"/\", no empty, \".\" or \"..\" segments, and no wildcard or control characters."
  }
}

variable "pipelines" {
  description = <<-EOT
    Pipelines triggered by uploads, keyed by pipeline name (the names of hookline.toml's pipelines).
    prefix: key prefix relative to the storage root, ending in "/" (e.g. "landing/train/").
    suffix: optional key suffix (e.g. ".csv"); empty matches every object under the prefix.
    suffixes: optional further suffixes (hookline.toml's `suffix` may be a list); each becomes
    its own trigger filter with the same prefix.
  EOT
  type = map(object({
    prefix   = string
    suffix   = optional(string, "")
    suffixes = optional(list(string), [])
  }))
  default = {}

  validation {
    condition     = alltrue([for n in keys(var.pipelines) : can(regex("^[a-z][a-z0-9_-]{0,31}$", n))])
    error_message = "Pipeline names must be 1-32 characters of lowercase letters, digits, \"_\" and \"-\", starting with a letter; got: ${join(", ", [for n in keys(var.pipelines) : "\"${n}\"" if !can(regex("^[a-z][a-z0-9_-]{0,31}$", n))])}."
  }

  validation {
    condition = alltrue([for n, p in var.pipelines : (
      endswith(p.prefix, "/") && !startswith(p.prefix, "/") && !strcontains(p.prefix, "//") &&
      !can(regex("(^|/)\\.\\.?(/|$)", p.prefix)) && !can(regex("[*?\\[\\]\\\\[:cntrl:]]", p.prefix))
    )])
    error_message = "Each pipeline prefix must be a relative folder-like key prefix ending in \"/\" (e.g. \"landing/train/\"), without a leading \"/\", \".\"/\"..\" segments or wildcards. Offending: ${join(", ", [for n, p in var.pipelines : "${n}=\"${p.prefix}\"" if !(endswith(p.prefix, "/") && !startswith(p.prefix, "/") && !strcontains(p.prefix, "//") && !can(regex("(^|/)\\.\\.?(/|$)", p.prefix)) && !can(regex("[*?\\[\\]\\\\[:cntrl:]]", p.prefix)))])}."
  }

  validation {
    condition     = alltrue(flatten([for n, p in var.pipelines : [for s in concat([p.suffix], p.suffixes) : !can(regex("[*?/\\\\[:cntrl:]]", s))]]))
    error_message = "A pipeline suffix is a plain key ending such as \".csv\": no \"/\", wildcards or control characters. Offending: ${join(", ", flatten([for n, p in var.pipelines : [for s in concat([p.suffix], p.suffixes) : "${n}=\"${s}\"" if can(regex("[*?/\\\\[:cntrl:]]", s))]]))}."
  }

  # Loop safety: hookline writes runs/, registry/ and monitoring/ under the storage root. A trigger
  # on (or above) those prefixes would fire on the framework's own outputs.
  validation {
    condition = alltrue([for n, p in var.pipelines : alltrue([
      for out in ["runs/", "registry/", "monitoring/"] : !(startswith(p.prefix, out) || startswith(out, p.prefix))
    ])])
    error_message = "Loop safety: a trigger prefix must not overlap hookline's own output prefixes runs/, registry/ and monitoring/ (the function would be woken by what it writes). Offending: ${join(", ", [for n, p in var.pipelines : "${n}=\"${p.prefix}\"" if anytrue([for out in ["runs/", "registry/", "monitoring/"] : startswith(p.prefix, out) || startswith(out, p.prefix)])])}. Put uploads under landing/<pipeline>/ instead."
  }
}

variable "schedules" {
  description = <<-EOT
    Scheduled runs: pipeline name -> schedule expression in the cloud's own syntax.
    aws: EventBridge Scheduler, "rate(1 day)" or "cron(0 3 * * ? *)"; gcp: Cloud Scheduler unix cron,
    "0 3 * * *"; azure: NCRONTAB with seconds, "0 0 3 * * *" (one schedule per deployment).
  EOT
  type        = map(string)
  default     = {}

  validation {
    condition     = alltrue([for n in keys(var.schedules) : can(regex("^[a-z][a-z0-9_-]{0,31}$", n))])
    error_message = "Scheduled pipeline names must be 1-32 characters of lowercase letters, digits, \"_\" and \"-\", starting with a letter."
  }

  validation {
    condition = alltrue([for n, e in var.schedules : (
      var.cloud == "aws" ? can(regex("^(rate\\([0-9]+ (minute|minutes|hour|hours|day|days)\\)|cron\\(\\S+( \\S+){5}\\)|at\\([0-9T:-]+\\))$", e)) :
      var.cloud == "gcp" ? can(regex("^\\S+( \\S+){4}$", e)) :
      can(regex("^\\S+( \\S+){5}$", e))
    )])
    error_message = "Schedule expressions must use the ${var.cloud} syntax: ${var.cloud == "aws" ? "EventBridge Scheduler rate(N unit), cron(6 fields) or at(yyyy-mm-ddThh:mm:ss)" : var.cloud == "gcp" ? "Cloud Scheduler unix cron with 5 fields, e.g. \"0 3 * * *\"" : "NCRONTAB with 6 fields (seconds first), e.g. \"0 0 3 * * *\""}. Offending: ${join(", ", [for n, e in var.schedules : "${n}=\"${e}\""])}."
  }

  validation {
    condition     = var.cloud != "azure" || length(var.schedules) <= 1
    error_message = "On Azure the pipeline app has one timer function, which runs the pipeline named in HOOKLINE_SCHEDULED_PIPELINE: give at most one schedule (got ${length(var.schedules)})."
  }
}

variable "config_uri" {
  description = "Optional URI of the hookline.toml the functions load (HOOKLINE_CONFIG). Empty: the hookline.toml bundled in the package."
  type        = string
  default     = ""

  validation {
    condition     = var.config_uri == "" || can(regex("^(s3|gs|az|file)://[^\\s]+\\.toml$", var.config_uri))
    error_message = "config_uri \"${var.config_uri}\" must be an s3://, gs://, az:// or file:// URI of a .toml file, or empty for the bundled hookline.toml."
  }
}

variable "plugins" {
  description = "Plugin names the functions load (HOOKLINE_PLUGINS, pinned). Empty: every installed plugin."
  type        = list(string)
  default     = []

  validation {
    condition     = alltrue([for p in var.plugins : can(regex("^[A-Za-z0-9][A-Za-z0-9_.-]*$", p))])
    error_message = "Plugin names are entry-point names (letters, digits, \"_\", \".\", \"-\"); they are joined with commas into HOOKLINE_PLUGINS, so they cannot contain commas or spaces."
  }
}

variable "unique_seed" {
  description = "Extra text hashed into the names that must be globally unique (Azure storage accounts, key vaults). Use e.g. the subscription or project id."
  type        = string
  default     = ""
}
