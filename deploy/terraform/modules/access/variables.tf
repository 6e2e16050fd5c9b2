variable "name" {
  description = "Name of the IAM role and instance profile."
  type        = string
  default     = "txflow"

  validation {
    condition     = can(regex("^[A-Za-z0-9+=,.@_-]{1,64}$", var.name))
    error_message = "name must be a valid IAM role name (1-64 of letters, digits, + = , . @ _ -)."
  }
}

variable "bucket_arn" {
  description = "ARN of the bucket that holds the txflow root (modules/storage output bucket_arn)."
  type        = string

  validation {
    condition     = can(regex("^arn:aws[a-z-]*:s3:::[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$", var.bucket_arn))
    error_message = "bucket_arn must be the ARN of an S3 bucket."
  }
}

variable "root_prefix" {
  description = "Key prefix of the txflow root in the bucket (read, write, delete), without slashes at either end."
  type        = string
  default     = "txflow"

  validation {
    condition     = can(regex("^[A-Za-z0-9_.-]+(/[A-Za-z0-9_.-]+)*$", var.root_prefix))
    error_message = "root_prefix must be one or more path segments with no leading or trailing slash."
  }
}

variable "read_only_prefixes" {
  description = "Further key prefixes in the same bucket that txflow only reads: where --source and --importance live (e.g. [\"input\"])."
  type        = list(string)
  default     = []

  validation {
    condition     = alltrue([for p in var.read_only_prefixes : can(regex("^[A-Za-z0-9_.-]+(/[A-Za-z0-9_.-]+)*$", p))])
    error_message = "each read-only prefix must be one or more path segments with no leading or trailing slash."
  }
}

variable "databricks_cross_account_role_name" {
  description = "Name of the workspace's cross-account IAM role; when set, it is allowed to pass this role to the clusters it launches (Databricks needs iam:PassRole on an instance profile's role). null: do that by hand."
  type        = string
  default     = null
}

variable "tags" {
  description = "Tags for every resource."
  type        = map(string)
  default     = {}
}
