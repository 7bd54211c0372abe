# Names, prefixes, filters and payloads shared by the aws, gcp and azure modules.
# Everything is computed from the inputs; there are no resources and no providers.

locals {
  # The storage root inside the bucket: "" or "some/prefix/".
  root = trimsuffix(var.storage_prefix, "/") == "" ? "" : "${trimsuffix(var.storage_prefix, "/")}/"

  scheme      = { aws = "s3", gcp = "gs", azure = "az" }[var.cloud]
  storage_uri = "${local.scheme}://${var.bucket}${local.root == "" ? "" : "/${trimsuffix(local.root, "/")}"}"

  # Layout fixed by hookline: the framework writes only under these prefixes of the storage root,
  # and the serving function appends prediction logs under landing/predictions/.
  framework_prefixes = [for p in ["runs/", "registry/", "monitoring/"] : "${local.root}${p}"]
  registry_prefix    = "${local.root}registry/"
  predictions_prefix = "${local.root}landing/predictions/"

  # Trigger filters in bucket-absolute form (the storage root prefix included). A pipeline with
  # several suffixes gets one filter per suffix, keyed "<pipeline>-<n>"; otherwise by its name.
  suffix_lists = { for n, p in var.pipelines : n => (
    length(compact(concat([p.suffix], p.suffixes))) == 0 ? [""] : distinct(compact(concat([p.suffix], p.suffixes)))
  ) }
  filter_list = flatten([for n in sort(keys(var.pipelines)) : [
    for i, s in local.suffix_lists[n] : {
      key      = length(local.suffix_lists[n]) == 1 ? n : "${n}-${i + 1}"
      pipeline = n
      prefix   = "${local.root}${var.pipelines[n].prefix}"
      suffix   = s
    }
  ]])
  triggers = { for f in local.filter_list : f.key => f }

  # Pairs of filters that can match the same key.
  overlaps = flatten([for i, a in local.filter_list : [for j, b in local.filter_list :
    "${a.pipeline} (${a.prefix}*${a.suffix}) and ${b.pipeline} (${b.prefix}*${b.suffix})"
    if j > i && (startswith(a.prefix, b.prefix) || startswith(b.prefix, a.prefix)) &&
    (endswith(a.suffix, b.suffix) || endswith(b.suffix, a.suffix))
  ]])

  trigger_prefixes = distinct([for f in local.filter_list : f.prefix])

  # What each function may touch (bucket-absolute prefixes).
  pipeline_read_prefixes  = distinct(concat(local.trigger_prefixes, [local.predictions_prefix], local.framework_prefixes))
  pipeline_write_prefixes = local.framework_prefixes
  serving_read_prefixes   = [local.registry_prefix]
  serving_write_prefixes  = [local.predictions_prefix]

  # Deterministic suffix for names that must be globally unique.
  unique  = substr(sha1("${var.name}|${var.unique_seed}"), 0, 6)
  compact = replace(var.name, "-", "")

  names = {
    pipeline_function = "${var.name}-pipeline"
    serving_function  = "${var.name}-serving"
    failure_queue     = "${var.name}-failures"
    log_bucket        = "${var.name}-logs"
    # GCP service account ids: 6-30 characters.
    gcp_pipeline_sa  = "${var.name}-pipe"
    gcp_serving_sa   = "${var.name}-serve"
    gcp_trigger_sa   = "${var.name}-trigger"
    gcp_build_sa     = "${var.name}-build"
    gcp_scheduler_sa = "${var.name}-sched"
    # Azure: storage accounts and key vaults are global, 3-24 characters.
    azure_host_storage  = "${substr(local.compact, 0, 16)}fn${local.unique}"
    azure_key_vault     = "${substr(local.compact, 0, 16)}kv${local.unique}"
    azure_signing_vault = "${substr(local.compact, 0, 16)}sk${local.unique}"
    azure_plan          = "${var.name}-plan"
    azure_system_topic  = "${var.name}-blob-events"
  }

  # One name per pipeline for per-pipeline resources (rules, subscriptions, schedules).
  pipeline_resource_names = { for n in distinct(concat(keys(var.pipelines), keys(var.schedules))) :
    n => substr("${var.name}-${replace(n, "_", "-")}", 0, 64)
  }

  # AWS: S3 -> EventBridge rule patterns, one per pipeline. A suffix needs a wildcard pattern,
  # since EventBridge ORs the entries of a list.
  eventbridge_patterns = { for n, t in local.triggers : n => jsonencode({
    source        = ["aws.s3"]
    "detail-type" = ["Object Created"]
    detail = {
      bucket = { name = [var.bucket] }
      object = { key = [t.suffix == "" ? { prefix = t.prefix } : { wildcard = "${t.prefix}*${t.suffix}" }] }
    }
  }) }

  # Azure: Event Grid subject filters for BlobCreated.
  azure_subject_filters = { for n, t in local.triggers : n => {
    begins_with = "/blobServices/default/containers/${var.bucket}/blobs/${t.prefix}"
    ends_with   = t.suffix
  } }

  # Azure ABAC: a condition that confines every blob data action (read, list, write, add, delete,
  # move) to the given path prefixes. Attached to role assignments on the container.
  blob_actions             = "Microsoft.Storage/storageAccounts/blobServices/containers/blobs"
  azure_condition_template = <<-EOT
    (
     (
      !(ActionMatches{'${local.blob_actions}/read'} AND NOT SubOperationMatches{'Blob.List'})
      AND !(ActionMatches{'${local.blob_actions}/write'})
      AND !(ActionMatches{'${local.blob_actions}/add/action'})
      AND !(ActionMatches{'${local.blob_actions}/delete'})
      AND !(ActionMatches{'${local.blob_actions}/move/action'})
     )
     OR
     (
      %PATHS%
     )
    )
    AND
    (
     (
      !(ActionMatches{'${local.blob_actions}/read'} AND SubOperationMatches{'Blob.List'})
     )
     OR
     (
      %LISTS%
     )
    )
  EOT
  azure_conditions = { for k, prefixes in {
    pipeline_read  = local.pipeline_read_prefixes
    pipeline_write = local.pipeline_write_prefixes
    serving_read   = local.serving_read_prefixes
    serving_write  = local.serving_write_prefixes
    } : k => replace(replace(local.azure_condition_template,
    "%PATHS%", join(" OR ", [for p in prefixes : "@Resource[${local.blob_actions}:path] StringStartsWith '${p}'"])),
    "%LISTS%", join(" OR ", [for p in prefixes : "@Request[${local.blob_actions}:prefix] StringStartsWith '${p}'"]))
  }

  # GCP: IAM condition expressions on bucket-level bindings (uniform bucket-level access).
  # Listing is checked on the bucket itself, so read bindings also allow the bucket resource type
  # (object names are listable, contents are not).
  gcs_object = "projects/_/buckets/${var.bucket}/objects/"
  gcs_conditions = {
    pipeline_read  = join(" || ", concat(["resource.type == \"storage.googleapis.com/Bucket\""], [for p in local.pipeline_read_prefixes : "resource.name.startsWith(\"${local.gcs_object}${p}\")"]))
    pipeline_write = join(" || ", [for p in local.pipeline_write_prefixes : "resource.name.startsWith(\"${local.gcs_object}${p}\")"])
    serving_read   = join(" || ", concat(["resource.type == \"storage.googleapis.com/Bucket\""], [for p in local.serving_read_prefixes : "resource.name.startsWith(\"${local.gcs_object}${p}\")"]))
    serving_write  = join(" || ", [for p in local.serving_write_prefixes : "resource.name.startsWith(\"${local.gcs_object}${p}\")"])
  }

  # Scheduled runs: the payload each cloud delivers to the pipeline function.
  schedule_payloads = { for n, expr in var.schedules : n => {
    expression = expr
    # AWS: EventBridge Scheduler target input.
    aws_input = jsonencode({ source = "hookline.schedule", pipeline = n })
    # GCP: Cloud Scheduler HTTP POST carrying a binary-mode CloudEvent.
    gcp_body = jsonencode({ pipeline = n })
    gcp_headers = {
      "Content-Type"   = "application/json"
      "ce-specversion" = "1.0"
      "ce-type"        = "hookline.schedule"
      "ce-source"      = "hookline/${var.name}/schedules/${n}"
      "ce-id"          = "${var.name}-${n}"
    }
    # Azure: the timer function reads these app settings.
    azure_settings = {
      HOOKLINE_SCHEDULED_PIPELINE = n
      HOOKLINE_SCHEDULE           = expr
    }
  } }

  environment = merge(
    { HOOKLINE_STORAGE = local.storage_uri },
    var.config_uri == "" ? {} : { HOOKLINE_CONFIG = var.config_uri },
    length(var.plugins) == 0 ? {} : { HOOKLINE_PLUGINS = join(",", var.plugins) },
  )
}
