terraform {
  required_version = ">= 1.9"

  required_providers {
    aws = {
      source = "hashicorp/aws"
      # aws_scheduler_schedule, Lambda function URLs, S3 -> EventBridge and
      # aws_lambda_function_event_invoke_config are all available from 5.x.
      version = ">= 5.40, < 7.0"
    }
  }
}
