# What the functions run comes from the bundle `hookline package --cloud gcp` writes: the one
# source archive and source.manifest.json beside it (format hookline.bundle/1), which names
# the runtime, the entry points and the hash. A bundle built for another Python or cloud
# fails the plan.

locals {
  # Cloud Run functions' Python runtimes that hookline packages for.
  gcp_python_runtimes = ["python311", "python312", "python313"]

  manifest_file = "${var.bundle_dir}/source.manifest.json"
  manifest = try(jsondecode(file(local.manifest_file)), {
    error = "cannot read ${local.manifest_file}: run `hookline package --cloud gcp --out ${dirname(var.bundle_dir)}` first (bundle_dir = \"${var.bundle_dir}\")"
  })
  bundle = {
    artifact     = "${var.bundle_dir}/${try(local.manifest.artifact, "")}"
    runtime      = try(local.manifest.runtime, "")
    sha256       = try(local.manifest.sha256, "")
    entry_points = { pipeline = try(local.manifest.entry_points.pipeline, ""), serving = try(local.manifest.entry_points.serving, "") }
  }

  bundle_problems = compact([
    try(local.manifest.error, ""),
    try(local.manifest.schema, "") == "hookline.bundle/1" ? "" : "${local.manifest_file}: schema is \"${try(local.manifest.schema, "")}\", expected \"hookline.bundle/1\"",
    try(local.manifest.cloud, "") == "gcp" ? "" : "${local.manifest_file}: built for cloud \"${try(local.manifest.cloud, "")}\", not gcp: run `hookline package --cloud gcp`",
    try(local.manifest.role, "") == "source" ? "" : "${local.manifest_file}: role is \"${try(local.manifest.role, "")}\", expected \"source\"",
    try(local.manifest.format, "") == "zip" ? "" : "${local.manifest_file}: format \"${try(local.manifest.format, "")}\": Cloud Functions builds from a source zip",
    contains(local.gcp_python_runtimes, local.bundle.runtime) ? "" : "${local.manifest_file}: runtime \"${local.bundle.runtime}\" is not a Cloud Functions Python runtime hookline supports (${join(", ", local.gcp_python_runtimes)}): rebuild with `hookline package --cloud gcp --python 3.12`",
    local.bundle.runtime == "python${replace(try(local.manifest.python, ""), ".", "")}" ? "" : "${local.manifest_file}: runtime \"${local.bundle.runtime}\" does not match the Python the requirements were resolved for (${try(local.manifest.python, "?")})",
    try(local.manifest.architecture, "") == "x86_64" ? "" : "${local.manifest_file}: architecture \"${try(local.manifest.architecture, "")}\": Cloud Functions builds and runs on x86_64: rebuild with `--arch x86_64`",
    local.bundle.entry_points.pipeline != "" && local.bundle.entry_points.serving != "" ? "" : "${local.manifest_file}: entry_points must name pipeline and serving",
    fileexists(local.bundle.artifact) ? "" : "${local.bundle.artifact} (named by ${local.manifest_file}) does not exist: package again",
    !fileexists(local.bundle.artifact) || try(filesha256(local.bundle.artifact), "") == local.bundle.sha256 ? "" : "${local.bundle.artifact} is not the archive ${local.manifest_file} describes (sha256 differs): package again",
  ])
}
