# Provider-free on purpose: everything here is plain Terraform language, so
# `terraform init -backend=false && terraform validate && terraform test` run offline.
terraform {
  # 1.9: variable validations may refer to other variables (schedules are checked against `cloud`).
  required_version = ">= 1.9"
}
