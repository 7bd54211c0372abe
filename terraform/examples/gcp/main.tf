# hookline on GCP, end to end: `hookline package --cloud gcp`, then `terraform apply` here.

terraform {
  required_version = ">= 1.9"
  required_providers {
    google = {
      source  = "hashicorp/google"
      version = ">= 5.30, < 7.0"
    }
    time = {
      source  = "hashicorp/time"
      version = ">= 0.9"
    }
  }
}

provider "google" {
  project = var.project_id
  region  = var.region
}

variable "project_id" {
  description = "GCP project id."
  type        = string
}

variable "region" {
  description = "Region of the functions and the bucket."
  type        = string
  default     = "europe-west1"
}

variable "bucket_name" {
  description = "Globally unique name for the bucket the module creates."
  type        = string
}

variable "serving_invokers" {
  description = "Members allowed to call the serving endpoint, e.g. [\"user:you@example.com\"]."
  type        = list(string)
  default     = []
}

variable "bundle_dir" {
  description = "Where `hookline package --cloud gcp --out dist` wrote the bundles and their manifests, relative to this folder."
  type        = string
  default     = "../../../dist/gcp"
}

module "hookline" {
  source = "../../modules/gcp"

  project_id  = var.project_id
  region      = var.region
  name        = "hookline-quickstart"
  bucket_name = var.bucket_name

  # The triggers of examples/quickstart/hookline.toml.
  pipelines = {
    train = { prefix = "landing/train/", suffix = ".csv" }
    score = { prefix = "landing/score/", suffix = ".csv" }
  }
  schedules = {}

  bundle_dir       = var.bundle_dir
  serving_invokers = var.serving_invokers
}

output "storage_uri" {
  value = module.hookline.storage_uri
}

output "serving_url" {
  value = module.hookline.serving_url
}

output "api_keys_secret" {
  value = module.hookline.api_keys_secret
}
