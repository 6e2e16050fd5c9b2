output "root_uri" {
  description = "The txflow root the jobs use."
  value       = module.storage.root_uri
}

output "input_uri" {
  description = "Where to put the source CSV and CustomerImportance.csv."
  value       = "s3://${module.storage.bucket_name}/${var.input_prefix}/"
}

output "instance_profile_arn" {
  description = "Instance profile of the job clusters."
  value       = module.access.instance_profile_arn
}

output "x_job_url" {
  description = "Job X (chunker) in the workspace."
  value       = module.jobs.x_job_url
}

output "y_job_url" {
  description = "Job Y (detector) in the workspace."
  value       = module.jobs.y_job_url
}
