# Alarms on hookline's run metrics. The pipeline function writes them as CloudWatch embedded
# metric format in its one `run_finished` line per run: namespace hookline, dimensions Project
# and Pipeline, RunSucceeded / RunFailed / RunRejected / RunDrifted (Count) and RunSeconds.

locals {
  # The Project dimension the runtime writes: the [project] name of the bundled hookline.toml.
  metrics_project = coalesce(var.metrics_project, try(local.manifests[local.roles[0]].project, null), var.name)
  # Every pipeline that runs here, upload-triggered or scheduled.
  alarm_pipelines = var.enable_pipeline ? toset(distinct(concat(keys(var.pipelines), keys(var.schedules)))) : toset([])
}

resource "aws_cloudwatch_metric_alarm" "run_failed" {
  for_each = local.alarm_pipelines

  alarm_name          = "${var.name}-${each.key}-run-failed"
  alarm_description   = "hookline: a run of pipeline ${each.key} failed. `hookline runs --status failed` shows the error; the failure queue holds events that failed after all retries."
  namespace           = "hookline"
  metric_name         = "RunFailed"
  dimensions          = { Project = local.metrics_project, Pipeline = each.key }
  statistic           = "Sum"
  period              = 300
  evaluation_periods  = 1
  comparison_operator = "GreaterThanThreshold"
  threshold           = 0
  treat_missing_data  = "notBreaching"
  alarm_actions       = var.alarm_actions
  tags                = var.tags
}

resource "aws_cloudwatch_metric_alarm" "run_rejected" {
  for_each = var.alarm_on_rejected_runs ? local.alarm_pipelines : toset([])

  alarm_name          = "${var.name}-${each.key}-run-rejected"
  alarm_description   = "hookline: a candidate of pipeline ${each.key} was rejected by its gates and not promoted. `hookline runs` shows which check failed."
  namespace           = "hookline"
  metric_name         = "RunRejected"
  dimensions          = { Project = local.metrics_project, Pipeline = each.key }
  statistic           = "Sum"
  period              = 300
  evaluation_periods  = 1
  comparison_operator = "GreaterThanThreshold"
  threshold           = 0
  treat_missing_data  = "notBreaching"
  alarm_actions       = var.alarm_actions
  tags                = var.tags
}

# No data is the signal here: days without a succeeded run count as breaching.
resource "aws_cloudwatch_metric_alarm" "no_training" {
  for_each = var.max_days_without_training > 0 ? local.alarm_pipelines : toset([])

  alarm_name          = "${var.name}-${each.key}-no-successful-run"
  alarm_description   = "hookline: pipeline ${each.key} has had no successful run for ${var.max_days_without_training} days: the model is no longer being retrained."
  namespace           = "hookline"
  metric_name         = "RunSucceeded"
  dimensions          = { Project = local.metrics_project, Pipeline = each.key }
  statistic           = "Sum"
  period              = 86400
  evaluation_periods  = var.max_days_without_training
  datapoints_to_alarm = var.max_days_without_training
  comparison_operator = "LessThanThreshold"
  threshold           = 1
  treat_missing_data  = "breaching"
  alarm_actions       = var.alarm_actions
  ok_actions          = var.alarm_actions
  tags                = var.tags
}
