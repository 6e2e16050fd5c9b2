output "x_job_id" {
  description = "ID of job X (chunker)."
  value       = databricks_job.x.id
}

output "x_job_url" {
  description = "Web page of job X."
  value       = databricks_job.x.url
}

output "y_job_id" {
  description = "ID of job Y (detector), whichever variant."
  value       = one(concat(databricks_job.y_standalone[*].id, databricks_job.y_spark[*].id))
}

output "y_job_url" {
  description = "Web page of job Y."
  value       = one(concat(databricks_job.y_standalone[*].url, databricks_job.y_spark[*].url))
}

output "wheel_workspace_path" {
  description = "Where the wheel was uploaded (/Workspace/...)."
  value       = databricks_workspace_file.wheel.workspace_path
}
