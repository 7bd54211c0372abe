# The example plans offline with the module's fixture bundle (mocked providers).

mock_provider "google" {
  mock_data "google_storage_project_service_account" {
    defaults = { email_address = "service-123@gs-project-accounts.iam.gserviceaccount.com" }
  }
}
mock_provider "time" {}

variables {
  project_id  = "hookline-example"
  bucket_name = "hookline-example-bucket"
  bundle_dir  = "../../modules/gcp/tests/fixtures/ok"
}

run "plans_with_the_packaged_bundle" {
  command = plan
  assert {
    condition     = module.hookline.bundle.runtime == "python312" && module.hookline.bundle.entry_points.serving == "serving"
    error_message = "the example deploys what the manifest says"
  }
}
