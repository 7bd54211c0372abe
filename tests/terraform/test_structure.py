"""Structural checks of the modules and examples, read with python-hcl2 (no providers needed)."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path
from typing import Any

import pytest

from ._hcl import (
    EXAMPLES,
    MODULES,
    REPO,
    as_list,
    blocks,
    load_dir,
    locals_of,
    module_calls,
    statements,
    variables_of,
)
from .entrypoints import AZURE_FUNCTIONS, ENTRY_POINTS, FUNCTION_DIRS

QUICKSTART = REPO / "examples" / "quickstart" / "hookline.toml"
FRAMEWORK_PREFIXES = ("runs/", "registry/", "monitoring/")
CLOUD_EXAMPLES = {"aws": "aws", "gcp": "gcp", "azure": "azure", "hybrid": "aws"}

AWS = load_dir(MODULES / "aws")
GCP = load_dir(MODULES / "gcp")
AZURE = load_dir(MODULES / "azure")


def _example_module(example: str) -> dict[str, Any]:
    calls = module_calls(load_dir(EXAMPLES / example))
    assert "hookline" in calls, f'examples/{example} must call module "hookline"'
    return calls["hookline"]


# --- handlers and bundles ----------------------------------------------------------------


def _entry_file(cloud: str, source: str) -> Path | None:
    """The entry file in functions/<cloud>/, or None while it is not written yet.

    A handler must name a file that exists there OR one listed in entrypoints.ENTRY_POINTS
    (shared with `hookline package`), which every test below also checks.
    """
    for rel in FUNCTION_DIRS[cloud]:
        if (REPO / rel / source).is_file():
            return REPO / rel / source
    return None


FIXTURES = {
    cloud: MODULES / cloud / "tests" / "fixtures" / "ok" for cloud in ("aws", "gcp", "azure")
}


def _fixture_manifest(cloud: str, role: str) -> dict[str, Any]:
    import json

    return json.loads((FIXTURES[cloud] / f"{role}.manifest.json").read_text())


@pytest.mark.parametrize("role", ["pipeline", "serving"])
def test_lambda_handlers_come_from_the_bundle_manifests(role: str) -> None:
    fn = blocks(AWS, "resource", "aws_lambda_function")[role]
    assert f"local.bundle.{role}.handler" in fn["handler"]
    assert f"local.bundle.{role}.runtime" in fn["runtime"]
    assert fn.get("filename") is None, "zips go through S3"
    expected = ENTRY_POINTS["aws"][role]
    assert _fixture_manifest("aws", role)["handler"] == expected.entry
    module, _, attr = expected.entry.partition(".")
    assert expected.source == f"{module}.py" and attr
    assert _entry_file("aws", expected.source) or expected in ENTRY_POINTS["aws"].values()


@pytest.mark.parametrize("role", ["pipeline", "serving"])
def test_gcp_entry_points_come_from_the_bundle_manifest(role: str) -> None:
    fn = blocks(GCP, "resource", "google_cloudfunctions2_function")[role]
    assert fn["build_config"][0]["entry_point"] == f"${{local.bundle.entry_points.{role}}}"
    expected = ENTRY_POINTS["gcp"][role]
    assert _fixture_manifest("gcp", "source")["entry_points"][role] == expected.entry
    assert _entry_file("gcp", expected.source) or expected in ENTRY_POINTS["gcp"].values()


def test_azure_apps_run_the_bundles_with_their_role() -> None:
    settings = locals_of(AZURE)["app_settings"]
    for role in ("pipeline", "serving"):
        expected = ENTRY_POINTS["azure"][role]
        assert f'HOOKLINE_ROLE = "{expected.entry}"' in settings[role]
        assert (
            f'WEBSITE_RUN_FROM_PACKAGE = try(azurerm_storage_blob.bundle["{role}"].url, null)'
            in settings[role]
        )
        assert _fixture_manifest("azure", role)["handler"] == expected.source
    assert "HOOKLINE_EVENTS_QUEUE = var.events_queue_name" in settings["pipeline"]
    assert locals_of(AZURE)["pipeline_queue_function"] == AZURE_FUNCTIONS["queue"]
    assert '"AzureWebJobs.${local.pipeline_timer_function}.Disabled"' in settings["pipeline"]
    assert locals_of(AZURE)["pipeline_timer_function"] == AZURE_FUNCTIONS["timer"]
    app = _entry_file("azure", "function_app.py")
    assert app is None or "HOOKLINE_ROLE" in app.read_text()


@pytest.mark.parametrize("example", sorted(CLOUD_EXAMPLES))
def test_examples_deploy_the_packaged_bundles(example: str) -> None:
    call = _example_module(example)
    assert call["bundle_dir"] == "${var.bundle_dir}", f"examples/{example} passes no bundle_dir"
    default = variables_of(load_dir(EXAMPLES / example))["bundle_dir"]["default"]
    assert default == f"../../../dist/{CLOUD_EXAMPLES[example]}", default
    assert not [k for k in call if k.endswith("_package")], "bundles are named by bundle_dir only"


# --- trigger filters ---------------------------------------------------------------------


def _quickstart_triggers() -> dict[str, tuple[str, tuple[str, ...]]]:
    data = tomllib.loads(QUICKSTART.read_text())
    out = {}
    for name, table in data.get("pipelines", {}).items():
        trigger = table.get("trigger")
        if trigger is None or trigger.get("source"):
            continue  # scheduled-only, or uploads that land outside the storage root
        suffix = trigger.get("suffix") or ()
        out[name] = (trigger["prefix"], tuple([suffix] if isinstance(suffix, str) else suffix))
    return out


def _example_triggers(example: str) -> dict[str, tuple[str, tuple[str, ...]]]:
    pipelines = _example_module(example).get("pipelines", {})
    out = {}
    for name, p in pipelines.items():
        suffixes = ([p["suffix"]] if p.get("suffix") else []) + list(p.get("suffixes", []))
        out[name] = (p["prefix"], tuple(suffixes))
    return out


@pytest.mark.parametrize("example", sorted(CLOUD_EXAMPLES))
def test_example_triggers_match_the_quickstart_config(example: str) -> None:
    if not QUICKSTART.exists():
        pytest.skip(f"{QUICKSTART.relative_to(REPO)} does not exist yet (built-in plugins issue)")
    assert _example_triggers(example) == _quickstart_triggers()


@pytest.mark.parametrize("example", sorted(CLOUD_EXAMPLES))
def test_example_triggers_never_watch_framework_outputs(example: str) -> None:
    triggers = _example_triggers(example)
    assert triggers, f"examples/{example} declares no pipeline"
    for name, (prefix, _) in triggers.items():
        assert prefix.endswith("/")
        for out in FRAMEWORK_PREFIXES:
            assert not (prefix.startswith(out) or out.startswith(prefix)), (name, prefix)


def test_s3_notification_filters_come_from_the_common_module() -> None:
    notification = blocks(AWS, "resource", "aws_s3_bucket_notification")["this"]
    content = notification["dynamic"][0]["lambda_function"]["content"][0]
    assert content["events"] == ["s3:ObjectCreated:*"]
    assert content["filter_prefix"] == "${lambda_function.value.prefix}"
    assert "lambda_function.value.suffix" in content["filter_suffix"]
    assert "module.common.triggers" in locals_of(AWS)["triggers"]


def test_azure_subscription_filters_blob_created_by_subject() -> None:
    sub = blocks(AZURE, "resource", "azurerm_eventgrid_system_topic_event_subscription")["upload"]
    assert sub["included_event_types"] == ["Microsoft.Storage.BlobCreated"]
    subject = sub["subject_filter"][0]
    assert "azure_subject_filters[each.key].begins_with" in subject["subject_begins_with"]
    assert subject["case_sensitive"] is True


# --- ordering and failure handling -------------------------------------------------------


def test_lambda_permission_is_created_before_the_bucket_notification() -> None:
    notification = blocks(AWS, "resource", "aws_s3_bucket_notification")["this"]
    assert "${aws_lambda_permission.s3}" in notification.get("depends_on", [])
    permission = blocks(AWS, "resource", "aws_lambda_permission")["s3"]
    assert permission["principal"] == "s3.amazonaws.com"
    assert permission["action"] == "lambda:InvokeFunction"
    assert permission["source_arn"] == "${local.bucket_arn}"
    assert permission["source_account"] == "${local.account_id}"


def test_eventbridge_targets_depend_on_their_permissions() -> None:
    target = blocks(AWS, "resource", "aws_cloudwatch_event_target")["upload"]
    assert "${aws_lambda_permission.eventbridge}" in target["depends_on"]
    assert target["dead_letter_config"][0]["arn"] == "${aws_sqs_queue.failures[0].arn}"


def test_aws_async_failure_handling_is_explicit() -> None:
    config = blocks(AWS, "resource", "aws_lambda_function_event_invoke_config")["pipeline"]
    assert config["maximum_retry_attempts"] == "${var.max_retry_attempts}"
    assert config["maximum_event_age_in_seconds"] == "${var.max_event_age_seconds}"
    destination = config["destination_config"][0]["on_failure"][0]["destination"]
    assert destination == "${aws_sqs_queue.failures[0].arn}"
    alarm = blocks(AWS, "resource", "aws_cloudwatch_metric_alarm")["failures"]
    assert alarm["dimensions"] == {"QueueName": "${aws_sqs_queue.failures[0].name}"}


def test_gcp_trigger_retries_and_waits_for_iam() -> None:
    fn = blocks(GCP, "resource", "google_cloudfunctions2_function")["pipeline"]
    trigger = fn["event_trigger"][0]
    assert trigger["event_type"] == "google.cloud.storage.object.v1.finalized"
    assert "RETRY_POLICY_RETRY" in trigger["retry_policy"]
    assert variables_of(GCP)["retry_on_failure"]["default"] is True
    assert trigger["service_account_email"] == "${google_service_account.trigger.email}"
    assert "${time_sleep.iam_propagation}" in fn["depends_on"]
    wait = blocks(GCP, "resource", "time_sleep")["iam_propagation"]
    assert "${google_project_iam_member.gcs_agent_pubsub_publisher}" in wait["depends_on"]
    assert "${google_project_iam_member.trigger_event_receiver}" in wait["depends_on"]


def test_gcp_trigger_account_has_exactly_the_eventarc_roles() -> None:
    member = "${local.member.trigger}"
    roles = [
        (kind, body["role"])
        for kind in (
            "google_project_iam_member",
            "google_cloud_run_service_iam_member",
            "google_storage_bucket_iam_member",
        )
        for body in blocks(GCP, "resource", kind).values()
        if body.get("member") == member
    ]
    assert sorted(roles) == [
        ("google_cloud_run_service_iam_member", "roles/run.invoker"),
        ("google_project_iam_member", "roles/eventarc.eventReceiver"),
    ]
    publisher = blocks(GCP, "resource", "google_project_iam_member")["gcs_agent_pubsub_publisher"]
    assert publisher["role"] == "roles/pubsub.publisher"
    assert "google_storage_project_service_account.gcs_agent" in publisher["member"]


def test_azure_dead_letters_are_stored_and_alarmed() -> None:
    sub = blocks(AZURE, "resource", "azurerm_eventgrid_system_topic_event_subscription")["upload"]
    assert sub["retry_policy"][0]["max_delivery_attempts"] == "${var.max_delivery_attempts}"
    dead = sub["storage_blob_dead_letter_destination"][0]
    assert dead["storage_blob_container_name"] == "${azurerm_storage_container.dead_letter.name}"
    assert "${azurerm_role_assignment.dead_letter}" in sub["depends_on"]
    alerts = blocks(AZURE, "resource", "azurerm_monitor_metric_alert")
    metrics = {a["criteria"][0]["metric_name"] for a in alerts.values()}
    assert {"DeadLetteredCount", "DroppedEventCount"} <= metrics


# --- least privilege ---------------------------------------------------------------------


def _all_policy_documents() -> list[tuple[str, dict[str, Any]]]:
    docs = []
    for folder in sorted([*MODULES.iterdir(), *EXAMPLES.iterdir()]):
        for name, body in blocks(load_dir(folder), "data", "aws_iam_policy_document").items():
            docs.append((f"{folder.name}:{name}", body))
    return docs


# Actions the AWS Service Authorization Reference lists with no resource type: they only
# accept "*" (the job's registry login; reading Batch jobs, whose ids are not known in advance).
STAR_ONLY_ACTIONS = frozenset({"ecr:GetAuthorizationToken", "batch:DescribeJobs", "batch:ListJobs"})


def test_iam_policies_grant_no_wildcard_action_on_wildcard_resource() -> None:
    docs = _all_policy_documents()
    assert len(docs) >= 5
    for name, doc in docs:
        for st in statements(doc):
            if st.get("effect", "Allow") != "Allow":
                continue
            actions = [str(a) for a in as_list(st.get("actions", []))]
            resources = [str(r) for r in as_list(st.get("resources", []))]
            wild_actions = [a for a in actions if a == "*" or a.endswith(":*")]
            assert not (wild_actions and "*" in resources), (name, st.get("sid"), actions)
            assert "*" not in actions, (name, st.get("sid"))
            if "*" in resources:  # only actions without resource-level permissions
                assert all(a.startswith("xray:") or a in STAR_ONLY_ACTIONS for a in actions), (
                    name,
                    st.get("sid"),
                    actions,
                )


def test_aws_object_access_is_confined_to_prefixes() -> None:
    local = locals_of(AWS)
    assert "module.common.pipeline_write_prefixes" in local["write_objects"]
    assert "module.common.serving_write_prefixes" in local["prediction_object"]
    pipeline = {
        st["sid"]: st
        for st in statements(blocks(AWS, "data", "aws_iam_policy_document")["pipeline"])
    }
    assert pipeline["WriteOnlyFrameworkPrefixes"]["resources"] == "${local.write_objects}"
    serving = {
        st["sid"]: st
        for st in statements(blocks(AWS, "data", "aws_iam_policy_document")["serving"])
    }
    assert serving["ReadRegistry"]["resources"] == "${local.registry_objects}"
    assert serving["WritePredictionLogs"]["actions"] == ["s3:PutObject"]


def test_gcp_and_azure_grant_no_broad_roles() -> None:
    broad = {"roles/owner", "roles/editor", "roles/storage.admin", "roles/storage.objectAdmin"}
    for body in (
        b
        for k in ("google_project_iam_member", "google_storage_bucket_iam_member")
        for b in blocks(GCP, "resource", k).values()
    ):
        assert body["role"] not in broad
    for name in ("pipeline_read", "pipeline_write", "serving_read", "serving_write"):
        bucket_binding = blocks(GCP, "resource", "google_storage_bucket_iam_member")[name]
        assert f"gcs_conditions.{name}" in bucket_binding["condition"][0]["expression"]
    data_roles = blocks(AZURE, "resource", "azurerm_role_assignment")["data"]
    assert data_roles["condition"] == "${each.value.condition}"
    assert data_roles["condition_version"] == "2.0"
    for role in re.findall(r"role = ([^,}]+)", str(locals_of(AZURE)["data_roles"])):
        assert "Owner" not in role


def test_created_buckets_are_encrypted_and_private() -> None:
    pab = blocks(AWS, "resource", "aws_s3_bucket_public_access_block")["this"]
    assert all(
        pab[k] is True
        for k in (
            "block_public_acls",
            "block_public_policy",
            "ignore_public_acls",
            "restrict_public_buckets",
        )
    )
    sse = blocks(AWS, "resource", "aws_s3_bucket_server_side_encryption_configuration")["this"]
    assert "sse_algorithm" in sse["rule"][0]["apply_server_side_encryption_by_default"][0]
    gcs = blocks(GCP, "resource", "google_storage_bucket")["this"]
    assert gcs["public_access_prevention"] == "enforced"
    assert gcs["uniform_bucket_level_access"] is True
    for name in ("data", "host"):
        account = blocks(AZURE, "resource", "azurerm_storage_account")[name]
        assert account["allow_nested_items_to_be_public"] is False
        assert account["shared_access_key_enabled"] is False
        assert account["min_tls_version"] == "TLS1_2"


def test_serving_endpoints_default_to_authenticated() -> None:
    assert variables_of(AWS)["serving_auth_type"]["default"] == "AWS_IAM"
    url = blocks(AWS, "resource", "aws_lambda_function_url")["serving"]
    assert url["authorization_type"] == "${var.serving_auth_type}"
    assert variables_of(GCP)["serving_public"]["default"] is False


def test_log_retention_is_set_everywhere() -> None:
    for group in blocks(AWS, "resource", "aws_cloudwatch_log_group").values():
        assert group["retention_in_days"] == "${var.log_retention_days}"
    bucket = blocks(GCP, "resource", "google_logging_project_bucket_config")["functions"]
    assert bucket["retention_days"] == "${var.log_retention_days}"
    ws = blocks(AZURE, "resource", "azurerm_log_analytics_workspace")["this"]
    assert ws["retention_in_days"] == "${var.log_retention_days}"


def test_secrets_never_reach_plain_settings() -> None:
    """The serving functions get a secret reference, never key material."""
    aws_env = blocks(AWS, "resource", "aws_lambda_function")["serving"]["environment"][0]
    assert aws_env["variables"] == "${local.function_environment.serving}"
    assert (
        "HOOKLINE_API_KEYS_SECRET = local.api_keys_secret_arn"
        in locals_of(AWS)["function_secrets"]["serving"]
    )
    gcp_env = blocks(GCP, "resource", "google_cloudfunctions2_function")["serving"]
    assert "local.function_secrets.serving" in str(
        gcp_env["service_config"][0]["environment_variables"]
    )
    assert (
        "HOOKLINE_API_KEYS_SECRET = local.api_keys_secret_ref"
        in locals_of(GCP)["function_secrets"]["serving"]
    )
    assert "local.function_secrets.serving" in locals_of(AZURE)["app_settings"]["serving"]
    assert (
        "HOOKLINE_API_KEYS_SECRET = local.api_keys_secret_uri"
        in locals_of(AZURE)["function_secrets"]["serving"]
    )
    for module in (AWS, GCP, AZURE):
        for name, var in variables_of(module).items():
            for secret in ("api_key", "admin_key", "signing_key"):
                assert (
                    secret not in name
                    or name.endswith(("_arn", "_id", "_uri"))
                    or name.startswith("create_")
                ), name


def test_modules_have_the_required_files() -> None:
    for cloud in ("aws", "gcp", "azure", "common"):
        for file in ("main.tf", "variables.tf", "outputs.tf", "versions.tf", "README.md"):
            assert (MODULES / cloud / file).is_file(), f"modules/{cloud}/{file} is missing"
    for example in CLOUD_EXAMPLES:
        assert (EXAMPLES / example / "main.tf").is_file()


def test_schedule_payloads_are_the_documented_ones() -> None:
    common = locals_of(load_dir(MODULES / "common"))["schedule_payloads"]
    assert 'aws_input = jsonencode({source = "hookline.schedule", pipeline = n})' in common
    assert '"ce-type" = "hookline.schedule"' in common and "jsonencode({pipeline = n})" in common
    assert "{HOOKLINE_SCHEDULED_PIPELINE = n, HOOKLINE_SCHEDULE = expr}" in common
    schedule = blocks(AWS, "resource", "aws_scheduler_schedule")["pipeline"]
    assert schedule["target"][0]["input"] == "${each.value.aws_input}"
    job = blocks(GCP, "resource", "google_cloud_scheduler_job")["pipeline"]
    assert job["http_target"][0]["headers"] == "${each.value.gcp_headers}"
