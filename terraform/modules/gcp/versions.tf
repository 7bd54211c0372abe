terraform {
  required_version = ">= 1.9"

  required_providers {
    google = {
      source = "hashicorp/google"
      # build_config.service_account and event_trigger.retry_policy on
      # google_cloudfunctions2_function.
      version = ">= 5.30, < 7.0"
    }
    time = {
      source  = "hashicorp/time"
      version = ">= 0.9"
    }
  }
}
