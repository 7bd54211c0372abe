# Hybrid: the registry bucket and the serving function in AWS; training on your own machine.
#
#   terraform apply                      # bucket + serving Lambda, no pipeline function
#   export HOOKLINE_STORAGE=$(terraform output -raw storage_uri)
#   hookline watch ./landing             # or `hookline run data.csv`: trains locally, writes
#                                        # runs/ and registry/ to the bucket
#   curl (signed) $(terraform output -raw serving_url)predict ...
#
# The machine that trains needs the policy in `trainer_policy_json` (attached below to an IAM
# role you name, e.g. the role of your CI runner or workstation SSO).

terraform {
  required_version = ">= 1.9"
  required_providers {
    aws = {
      source  = "hashicorp/aws"
      version = ">= 6.40, < 7.0"
    }
  }
}

provider "aws" {
  region = var.region
}

variable "region" {
  description = "AWS region."
  type        = string
  default     = "eu-west-1"
}

variable "bucket_name" {
  description = "Globally unique name for the registry bucket."
  type        = string
}

variable "trainer_role_name" {
  description = "Existing IAM role used by the machine that trains (null: attach trainer_policy_arn yourself)."
  type        = string
  default     = null
}

variable "bundle_dir" {
  description = "Where `hookline package --cloud aws --out dist` wrote the bundles and their manifests, relative to this folder."
  type        = string
  default     = "../../../dist/aws"
}

module "hookline" {
  source = "../../modules/aws"

  name        = "hookline-hybrid"
  bucket_name = var.bucket_name

  # Training runs on your machine: no pipeline function, no bucket trigger.
  enable_pipeline = false
  enable_serving  = true

  # Still declared, so the trainer policy covers the upload prefixes of hookline.toml.
  pipelines = {
    train = { prefix = "landing/train/", suffix = ".csv" }
    score = { prefix = "landing/score/", suffix = ".csv" }
  }

  bundle_dir = var.bundle_dir
}

resource "aws_iam_policy" "trainer" {
  name        = "hookline-hybrid-trainer"
  description = "Run hookline pipelines outside AWS against the hybrid registry bucket."
  policy      = module.hookline.trainer_policy_json
}

resource "aws_iam_role_policy_attachment" "trainer" {
  count = var.trainer_role_name == null ? 0 : 1

  role       = var.trainer_role_name
  policy_arn = aws_iam_policy.trainer.arn
}

output "storage_uri" {
  value = module.hookline.storage_uri
}

output "serving_url" {
  value = module.hookline.serving_url
}

output "trainer_policy_arn" {
  value = aws_iam_policy.trainer.arn
}
