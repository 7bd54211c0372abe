# The hybrid example plans offline with the module's fixture bundles (mocked provider).

mock_provider "aws" {
  mock_data "aws_caller_identity" {
    defaults = { account_id = "123456789012" }
  }
  mock_data "aws_partition" {
    defaults = { partition = "aws" }
  }
}

variables {
  bucket_name = "hookline-hybrid-bucket"
  bundle_dir  = "../../modules/aws/tests/fixtures/ok"
}

run "serves_without_a_pipeline_function" {
  command = plan
  assert {
    condition     = module.hookline.pipeline_function_name == null && keys(module.hookline.bundles) == ["serving"]
    error_message = "only the serving bundle is deployed"
  }
}
