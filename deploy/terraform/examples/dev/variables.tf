variable "aws_region" {
  description = "AWS region of the bucket and of the Databricks workspace."
  type        = string
  default     = "us-east-1"

  validation {
    condition     = can(regex("^[a-z]{2}(-[a-z]+)+-[0-9]$", var.aws_region))
    error_message = "aws_region must look like us-east-1."
  }
}

variable "databricks_host" {
  description = "URL of the Databricks workspace, e.g. https://dbc-1234abcd-5678.cloud.databricks.com; null: DATABRICKS_HOST or the profile's."
  type        = string
  default     = null
}

variable "databricks_profile" {
  description = "Profile in ~/.databrickscfg; null: the environment (DATABRICKS_HOST, DATABRICKS_TOKEN, OAuth)."
  type        = string
  default     = null
}

variable "bucket_name" {
  description = "Name of the new S3 bucket (globally unique)."
  type        = string
}

variable "root_prefix" {
  description = "Key prefix of the txflow root in the bucket."
  type        = string
  default     = "txflow"
}

variable "input_prefix" {
  description = "Key prefix in the same bucket where the source CSV and CustomerImportance.csv are put; the jobs may only read it."
  type        = string
  default     = "input"
}

variable "source_key" {
  description = "Key of the growing transaction log, under input_prefix."
  type        = string
  default     = "transactions.csv"
}

variable "importance_key" {
  description = "Key of CustomerImportance.csv under input_prefix."
  type        = string
  default     = "CustomerImportance.csv"
}

variable "wheel_path" {
  description = "The wheel `make wheel` builds, relative to this folder or absolute. Its tag must fit spark_version: cp311 for 15.x, cp312 for 16.x and 17.x (docs/deploy.md, The wheel)."
  type        = string
  default     = "../../../../build/dist/txflow-0.1.0-cp311-cp311-linux_x86_64.whl"
}

variable "spark_version" {
  description = "Databricks Runtime of the job clusters (modules/jobs validates it): 15.4.x-scala2.12 with the cp311 wheel, or 16.4.x-scala2.12 / 17.3.x-scala2.13 with a cp312 wheel."
  type        = string
  default     = "15.4.x-scala2.12"
}

variable "x_node_type_id" {
  description = "EC2 instance type of job X's single node."
  type        = string
  default     = "m5d.large"
}

variable "y_node_type_id" {
  description = "EC2 instance type of job Y's node(s)."
  type        = string
  default     = "m5d.large"
}

variable "y_variant" {
  description = "standalone (txflow detect) or spark (txflow-spark detect)."
  type        = string
  default     = "standalone"
}

variable "databricks_cross_account_role_name" {
  description = "Name of the workspace's cross-account IAM role, given iam:PassRole on the txflow role; null: grant it by hand."
  type        = string
  default     = null
}

variable "notification_emails" {
  description = "Who hears about failures, backlog and restarts."
  type        = list(string)
}

variable "webhook_url" {
  description = "Optional webhook called on the same events; null: none."
  type        = string
  default     = null
  sensitive   = true
}

variable "force_destroy" {
  description = "Let terraform destroy remove the bucket with its objects (dev only)."
  type        = bool
  default     = false
}

variable "tags" {
  description = "Tags for every AWS resource, the jobs and their clusters."
  type        = map(string)
  default = {
    project = "txflow"
    env     = "dev"
  }
}
