# The example plans offline with the module's fixture bundles (mocked provider).

mock_provider "aws" {
  mock_data "aws_caller_identity" {
    defaults = { account_id = "123456789012" }
  }
  mock_data "aws_partition" {
    defaults = { partition = "aws" }
  }
}

variables {
  bucket_name = "hookline-example-bucket"
  bundle_dir  = "../../modules/aws/tests/fixtures/ok"
}

run "plans_with_packaged_bundles" {
  command = plan
  assert {
    condition     = module.hookline.bundles.pipeline.runtime == "python3.12" && module.hookline.bundles.serving.handler == "serving.handler"
    error_message = "the example deploys what the manifests say"
  }
  assert {
    condition     = module.hookline.triggers["train"].prefix == "landing/train/"
    error_message = "the quickstart's triggers"
  }
}
