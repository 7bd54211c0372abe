# hookline on AWS, end to end: `hookline package --cloud aws`, then `terraform apply` here.
# Uploads to s3://<bucket>/landing/train/*.csv train, gate and register a model; uploads to
# landing/score/ are scored and checked for drift; the serving URL answers predictions.

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
  description = "Globally unique name for the bucket the module creates."
  type        = string
}

variable "bundle_dir" {
  description = "Where `hookline package --cloud aws --out dist` wrote the bundles and their manifests, relative to this folder."
  type        = string
  default     = "../../../dist/aws"
}

module "hookline" {
  source = "../../modules/aws"

  name        = "hookline-quickstart"
  bucket_name = var.bucket_name

  # The triggers of examples/quickstart/hookline.toml.
  pipelines = {
    train = { prefix = "landing/train/", suffix = ".csv" }
    score = { prefix = "landing/score/", suffix = ".csv" }
  }
  schedules = {}

  bundle_dir = var.bundle_dir
}

output "storage_uri" {
  value = module.hookline.storage_uri
}

output "serving_url" {
  value = module.hookline.serving_url
}

output "failure_queue_url" {
  value = module.hookline.failure_queue_url
}

output "api_keys_secret_arn" {
  value = module.hookline.api_keys_secret_arn
}
