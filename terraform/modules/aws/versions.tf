terraform {
  required_version = ">= 1.9"

  required_providers {
    aws = {
      source = "hashicorp/aws"
      # 6.40: the first release checked to have invoked_via_function_url on
      # aws_lambda_permission (Function URLs need lambda:InvokeFunction through the URL).
      # Both ends are checked against the provider schemas (tests/terraform/providers).
      version = ">= 6.40, < 7.0"
    }
  }
}
