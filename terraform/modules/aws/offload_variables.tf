# Run offload (docs/scaling.md): runs that outgrow the pipeline function go to an AWS Batch
# job on Fargate or a SageMaker training job. Off unless enable_offload is true.

variable "enable_offload" {
  description = "Create what run offload needs: the job image repository, the job (AWS Batch on Fargate, or SageMaker), the job-state routing to the pipeline function, the reconciler schedule and their roles. The pipelines' [compute] tables name what this creates (output offload_compute)."
  type        = bool
  default     = false
}

variable "offload_backend" {
  description = "Where offloaded runs go: \"aws-batch\" (a Batch job on Fargate) or \"sagemaker\" (a SageMaker training job on the same image)."
  type        = string
  default     = "aws-batch"

  validation {
    condition     = contains(["aws-batch", "sagemaker"], var.offload_backend)
    error_message = "offload_backend must be \"aws-batch\" or \"sagemaker\"."
  }
}

variable "offload_subnet_ids" {
  description = "Subnets the Batch jobs (Fargate tasks) run in; they need a route to S3 and ECR (a NAT gateway, or VPC endpoints for s3, ecr.api, ecr.dkr and logs). Required for aws-batch; optional VPC for sagemaker."
  type        = list(string)
  default     = []
}

variable "offload_security_group_ids" {
  description = "Security groups of the jobs (egress to S3, ECR and CloudWatch Logs; no ingress is needed)."
  type        = list(string)
  default     = []
}

variable "offload_assign_public_ip" {
  description = "Give Fargate tasks a public IP (subnets with an internet gateway and no NAT). false: private subnets."
  type        = bool
  default     = false
}

variable "offload_vcpus" {
  description = "vCPUs of a Batch job (Fargate: 0.25, 0.5, 1, 2, 4, 8 or 16)."
  type        = number
  default     = 4

  validation {
    condition     = contains([0.25, 0.5, 1, 2, 4, 8, 16], var.offload_vcpus)
    error_message = "offload_vcpus must be one of Fargate's: 0.25, 0.5, 1, 2, 4, 8, 16."
  }
}

variable "offload_memory_mib" {
  description = "Memory of a Batch job in MiB (Fargate allows 512-122880, in steps that depend on the vCPUs)."
  type        = number
  default     = 16384

  validation {
    condition     = var.offload_memory_mib >= 512 && var.offload_memory_mib <= 122880
    error_message = "offload_memory_mib must be between 512 and 122880."
  }
}

variable "offload_max_vcpus" {
  description = "Most vCPUs the Batch compute environment runs at once (offloaded runs in parallel x offload_vcpus)."
  type        = number
  default     = 64
}

variable "offload_max_runtime_seconds" {
  description = "Longest a job may run: the Batch attempt duration (the [compute] table's max_runtime_seconds should match)."
  type        = number
  default     = 86400

  validation {
    condition     = var.offload_max_runtime_seconds >= 60
    error_message = "offload_max_runtime_seconds must be at least 60 (Batch's minimum)."
  }
}

variable "offload_sagemaker_instance_type" {
  description = "SageMaker training instance type (offload_backend = \"sagemaker\")."
  type        = string
  default     = "ml.m5.xlarge"
}

variable "offload_reconcile_schedule" {
  description = "How often the reconciler visits the jobs in flight (EventBridge Scheduler expression). Batch and SageMaker report failures as events; the reconciler closes jobs that never start and events that were lost."
  type        = string
  default     = "rate(10 minutes)"
}

variable "offload_image_repository_name" {
  description = "Name of the ECR repository for the job image (created). null: <name>-jobs."
  type        = string
  default     = null
}
