# Run offload outputs: what the pipelines' [compute] tables name (docs/scaling.md).

output "offload_compute" {
  description = "The backend settings of a pipeline's [compute] table for what this module created (null when enable_offload is false): paste them into hookline.toml."
  value = !local.offload ? null : (local.offload_batch ? {
    backend             = "aws-batch"
    job_queue           = aws_batch_job_queue.jobs[0].name
    job_definition      = aws_batch_job_definition.train[0].name
    image               = local.job_image
    max_runtime_seconds = var.offload_max_runtime_seconds
    } : {
    backend             = "sagemaker"
    image               = local.job_image
    role_arn            = aws_iam_role.job[0].arn
    output_path         = "s3://${var.bucket_name}/${module.common.storage_root_prefix}runs/sagemaker/"
    instance_type       = var.offload_sagemaker_instance_type
    max_runtime_seconds = var.offload_max_runtime_seconds
  })
}

output "job_image_repository_url" {
  description = "ECR repository to push the job image to (skopeo copy oci-archive:dist/aws/job.oci.tar docker://<url>:<tag>)."
  value       = one(aws_ecr_repository.jobs[*].repository_url)
}

output "job_image" {
  description = "The job image by digest (from dist/aws/job.manifest.json): what the job runs and what the [compute] table's image must be."
  value       = local.offload ? local.job_image : null
}

output "job_role_arn" {
  description = "The role offloaded runs run as (Batch job role, or the role SageMaker training jobs assume)."
  value       = one(aws_iam_role.job[*].arn)
}

output "job_queue_arn" {
  description = "The Batch job queue of offloaded runs (aws-batch)."
  value       = one(aws_batch_job_queue.jobs[*].arn)
}
