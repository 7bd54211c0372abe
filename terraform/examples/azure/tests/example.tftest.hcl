# The example plans offline with the module's fixture bundles (mocked providers).

mock_provider "azurerm" {
  mock_data "azurerm_client_config" {
    defaults = {
      tenant_id = "00000000-0000-0000-0000-000000000000"
      object_id = "11111111-1111-1111-1111-111111111111"
    }
  }
}
mock_provider "time" {}

variables {
  subscription_id      = "00000000-0000-0000-0000-000000000000"
  storage_account_name = "hooklineexample123"
  bundle_dir           = "../../modules/azure/tests/fixtures/ok"
}

run "plans_with_the_packaged_bundles" {
  command = plan
  assert {
    condition     = module.hookline.bundles.pipeline.runtime == "3.12" && module.hookline.events_queue == "hookline-events"
    error_message = "the example deploys what the manifests say, through the events queue"
  }
}
