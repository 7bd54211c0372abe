# What the functions run comes from the bundles `hookline package --cloud aws` writes, and from
# nothing else: each <role>.manifest.json beside its artifact names the runtime, architecture,
# handler and hash (format hookline.bundle/1). A bundle built for another Python, CPU or cloud
# fails the plan with the reason, before anything is deployed.
#
# Zips go to Lambda through S3 (the bundles are far over the 50 MB direct-upload limit);
# images deploy by digest from var.image_repository_url.

locals {
  # Lambda's Python runtimes hookline packages for, and its architectures.
  lambda_python_runtimes = ["python3.11", "python3.12", "python3.13"]
  lambda_architectures   = ["x86_64", "arm64"]
  # Lambda: 250 MB unzipped for a zip (function and layers together).
  lambda_unzipped_limit = 262144000

  roles          = concat(var.enable_pipeline ? ["pipeline"] : [], var.enable_serving ? ["serving"] : [])
  manifest_files = { for r in local.roles : r => "${var.bundle_dir}/${r}.manifest.json" }
  manifests = {
    for r, f in local.manifest_files : r => try(jsondecode(file(f)), {
      error = "cannot read ${f}: run `hookline package --cloud aws --out ${dirname(var.bundle_dir)}` first (bundle_dir = \"${var.bundle_dir}\")"
    })
  }

  bundle = { for r, m in local.manifests : r => {
    format       = try(m.format, "")
    zip          = try(m.format, "") == "zip"
    artifact     = "${var.bundle_dir}/${try(m.artifact, "")}"
    runtime      = try(m.runtime, "")
    architecture = try(m.architecture, "")
    handler      = try(m.handler, "")
    sha256       = try(m.sha256, "")
    hash_base64  = try(m.sha256_base64, "")
    digest       = try(m.image.digest, "")
  } }

  # Everything wrong with a bundle, in words; empty when it can be deployed.
  bundle_problems = { for r, m in local.manifests : r => compact([
    try(m.error, ""),
    try(m.schema, "") == "hookline.bundle/1" ? "" : "${local.manifest_files[r]}: schema is \"${try(m.schema, "")}\", expected \"hookline.bundle/1\"",
    try(m.cloud, "") == "aws" ? "" : "${local.manifest_files[r]}: built for cloud \"${try(m.cloud, "")}\", not aws: run `hookline package --cloud aws`",
    try(m.role, "") == r ? "" : "${local.manifest_files[r]}: role is \"${try(m.role, "")}\", expected \"${r}\"",
    contains(["zip", "image"], local.bundle[r].format) ? "" : "${local.manifest_files[r]}: format \"${local.bundle[r].format}\" is neither zip nor image",
    contains(local.lambda_python_runtimes, local.bundle[r].runtime) ? "" : "${local.manifest_files[r]}: runtime \"${local.bundle[r].runtime}\" is not a Lambda Python runtime hookline supports (${join(", ", local.lambda_python_runtimes)}): rebuild with `hookline package --cloud aws --python 3.12`",
    local.bundle[r].runtime == "python${try(m.python, "")}" ? "" : "${local.manifest_files[r]}: runtime \"${local.bundle[r].runtime}\" does not match the Python the bundle was built for (${try(m.python, "?")})",
    contains(local.lambda_architectures, local.bundle[r].architecture) ? "" : "${local.manifest_files[r]}: architecture \"${local.bundle[r].architecture}\" is not one of Lambda's (${join(", ", local.lambda_architectures)}): rebuild with `hookline package --cloud aws --arch x86_64` or `--arch arm64`",
    local.bundle[r].handler != "" ? "" : "${local.manifest_files[r]}: no handler",
    !local.bundle[r].zip || fileexists(local.bundle[r].artifact) ? "" : "${local.bundle[r].artifact} (named by ${local.manifest_files[r]}) does not exist: package again",
    !local.bundle[r].zip || !fileexists(local.bundle[r].artifact) || try(filebase64sha256(local.bundle[r].artifact), "") == local.bundle[r].hash_base64 ? "" : "${local.bundle[r].artifact} is not the archive ${local.manifest_files[r]} describes (sha256 differs): package again",
    !local.bundle[r].zip || try(m.unzipped_bytes, 0) <= local.lambda_unzipped_limit ? "" : "${local.manifest_files[r]}: ${try(m.unzipped_bytes, 0)} bytes unzipped is over Lambda's 250 MB limit for zips: package with `--format image`",
    local.bundle[r].zip || can(regex("^sha256:[0-9a-f]{64}$", local.bundle[r].digest)) ? "" : "${local.manifest_files[r]}: an image bundle needs image.digest (sha256:<64 hex>)",
    local.bundle[r].zip || var.image_repository_url != null ? "" : "${local.manifest_files[r]} is an image: set image_repository_url to the ECR repository it was pushed to",
  ]) }

  zips = { for r, b in local.bundle : r => b if b.zip }

  artifacts_bucket = var.artifacts_bucket != null ? var.artifacts_bucket : one(aws_s3_bucket.artifacts[*].bucket)
  artifacts_name   = coalesce(var.artifacts_bucket, "${substr(var.bucket_name, 0, 53)}-artifacts")
}

# --- the deployment artifacts bucket (when the module creates it) -------------------------

resource "aws_s3_bucket" "artifacts" {
  count = var.artifacts_bucket == null && length(local.zips) > 0 ? 1 : 0
  #checkov:skip=CKV_AWS_18:Holds only the deployment zips Terraform uploads; CloudTrail records who wrote them.
  #checkov:skip=CKV_AWS_144:The zips are rebuilt byte for byte by `hookline package`; replication adds nothing.
  #checkov:skip=CKV_AWS_145:SSE-S3 by default; set kms_key_arn to use a customer-managed KMS key.
  #checkov:skip=CKV2_AWS_62:Nothing reacts to deployment uploads; Lambda reads the object it is given.

  bucket = local.artifacts_name
  tags   = var.tags
}

resource "aws_s3_bucket_public_access_block" "artifacts" {
  count = length(aws_s3_bucket.artifacts)

  bucket                  = aws_s3_bucket.artifacts[0].id
  block_public_acls       = true
  block_public_policy     = true
  ignore_public_acls      = true
  restrict_public_buckets = true
}

resource "aws_s3_bucket_ownership_controls" "artifacts" {
  count = length(aws_s3_bucket.artifacts)

  bucket = aws_s3_bucket.artifacts[0].id
  rule {
    object_ownership = "BucketOwnerEnforced"
  }
}

resource "aws_s3_bucket_server_side_encryption_configuration" "artifacts" {
  count = length(aws_s3_bucket.artifacts)

  bucket = aws_s3_bucket.artifacts[0].id
  rule {
    apply_server_side_encryption_by_default {
      sse_algorithm     = var.kms_key_arn == null ? "AES256" : "aws:kms"
      kms_master_key_id = var.kms_key_arn
    }
    bucket_key_enabled = var.kms_key_arn != null
  }
}

# Versioned: each function names the exact object version it runs (s3_object_version).
resource "aws_s3_bucket_versioning" "artifacts" {
  count = length(aws_s3_bucket.artifacts)

  bucket = aws_s3_bucket.artifacts[0].id
  versioning_configuration {
    status = "Enabled"
  }
}

resource "aws_s3_bucket_lifecycle_configuration" "artifacts" {
  count = length(aws_s3_bucket.artifacts)

  bucket = aws_s3_bucket.artifacts[0].id

  rule {
    id     = "hookline-old-bundles"
    status = "Enabled"
    filter {}

    abort_incomplete_multipart_upload {
      days_after_initiation = 1
    }
    noncurrent_version_expiration {
      noncurrent_days = 30
    }
  }

  depends_on = [aws_s3_bucket_versioning.artifacts]
}

data "aws_iam_policy_document" "artifacts" {
  statement {
    sid       = "DenyInsecureTransport"
    effect    = "Deny"
    actions   = ["s3:*"]
    resources = ["arn:${local.partition}:s3:::${local.artifacts_name}", "arn:${local.partition}:s3:::${local.artifacts_name}/*"]
    principals {
      type        = "*"
      identifiers = ["*"]
    }
    condition {
      test     = "Bool"
      variable = "aws:SecureTransport"
      values   = ["false"]
    }
  }
}

resource "aws_s3_bucket_policy" "artifacts" {
  count = length(aws_s3_bucket.artifacts)

  bucket     = aws_s3_bucket.artifacts[0].id
  policy     = data.aws_iam_policy_document.artifacts.json
  depends_on = [aws_s3_bucket_public_access_block.artifacts]
}

# One object per bundle content: a new bundle is a new key, so the function updates.
resource "aws_s3_object" "bundle" {
  for_each = local.zips

  bucket                 = local.artifacts_bucket
  key                    = "${var.artifacts_prefix}${var.name}/${each.key}-${each.value.sha256}.zip"
  source                 = each.value.artifact
  source_hash            = each.value.sha256
  content_type           = "application/zip"
  server_side_encryption = var.kms_key_arn == null ? "AES256" : "aws:kms"
  kms_key_id             = var.kms_key_arn
  tags                   = var.tags

  lifecycle {
    precondition {
      condition     = length(local.bundle_problems[each.key]) == 0
      error_message = "The ${each.key} bundle cannot be deployed:\n  - ${join("\n  - ", local.bundle_problems[each.key])}"
    }
  }

  depends_on = [aws_s3_bucket_versioning.artifacts, aws_s3_bucket_policy.artifacts]
}
