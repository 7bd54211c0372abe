# What the apps run comes from the bundles `hookline package --cloud azure` writes: each
# <role>.manifest.json (format hookline.bundle/1) names the Python version and the hash of its
# run-from-package zip. A bundle built for another Python, CPU or cloud fails the plan.

locals {
  # Azure Functions' Python versions on Linux that hookline packages for; x86_64 only.
  functions_python_versions = ["3.11", "3.12", "3.13"]

  roles          = concat(var.enable_pipeline ? ["pipeline"] : [], var.enable_serving ? ["serving"] : [])
  manifest_files = { for r in local.roles : r => "${var.bundle_dir}/${r}.manifest.json" }
  manifests = {
    for r, f in local.manifest_files : r => try(jsondecode(file(f)), {
      error = "cannot read ${f}: run `hookline package --cloud azure --out ${dirname(var.bundle_dir)}` first (bundle_dir = \"${var.bundle_dir}\")"
    })
  }

  bundle = { for r, m in local.manifests : r => {
    artifact = "${var.bundle_dir}/${try(m.artifact, "")}"
    runtime  = try(m.runtime, "")
    sha256   = try(m.sha256, "")
  } }

  bundle_problems = { for r, m in local.manifests : r => compact([
    try(m.error, ""),
    try(m.schema, "") == "hookline.bundle/1" ? "" : "${local.manifest_files[r]}: schema is \"${try(m.schema, "")}\", expected \"hookline.bundle/1\"",
    try(m.cloud, "") == "azure" ? "" : "${local.manifest_files[r]}: built for cloud \"${try(m.cloud, "")}\", not azure: run `hookline package --cloud azure`",
    try(m.role, "") == r ? "" : "${local.manifest_files[r]}: role is \"${try(m.role, "")}\", expected \"${r}\"",
    try(m.format, "") == "zip" ? "" : "${local.manifest_files[r]}: format \"${try(m.format, "")}\": the apps run from a zip package",
    contains(local.functions_python_versions, local.bundle[r].runtime) ? "" : "${local.manifest_files[r]}: Python \"${local.bundle[r].runtime}\" is not one Azure Functions runs and hookline supports (${join(", ", local.functions_python_versions)}): rebuild with `hookline package --cloud azure --python 3.12`",
    local.bundle[r].runtime == try(m.python, "") ? "" : "${local.manifest_files[r]}: runtime \"${local.bundle[r].runtime}\" does not match the Python the bundle was built for (${try(m.python, "?")})",
    try(m.architecture, "") == "x86_64" ? "" : "${local.manifest_files[r]}: architecture \"${try(m.architecture, "")}\": Azure Functions runs Python on x86_64 only: rebuild with `--arch x86_64`",
    fileexists(local.bundle[r].artifact) ? "" : "${local.bundle[r].artifact} (named by ${local.manifest_files[r]}) does not exist: package again",
    !fileexists(local.bundle[r].artifact) || try(filesha256(local.bundle[r].artifact), "") == local.bundle[r].sha256 ? "" : "${local.bundle[r].artifact} is not the archive ${local.manifest_files[r]} describes (sha256 differs): package again",
  ]) }
}

# One blob per bundle content, so a new bundle is a new URL and the app restarts on it.
resource "azurerm_storage_blob" "bundle" {
  for_each = local.bundle

  name                   = "${each.key}-${each.value.sha256}.zip"
  storage_account_name   = azurerm_storage_account.host.name
  storage_container_name = azurerm_storage_container.packages.name
  type                   = "Block"
  source                 = each.value.artifact
  content_md5            = try(filemd5(each.value.artifact), null)
  depends_on             = [time_sleep.deployer_role]

  lifecycle {
    precondition {
      condition     = length(local.bundle_problems[each.key]) == 0
      error_message = "The ${each.key} bundle cannot be deployed:\n  - ${join("\n  - ", local.bundle_problems[each.key])}"
    }
  }
}
