variable "bucket_name" {
  description = "Name of the S3 bucket that holds the txflow root (globally unique)."
  type        = string

  validation {
    condition     = can(regex("^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$", var.bucket_name))
    error_message = "bucket_name must be a valid S3 bucket name: 3-63 lowercase letters, digits, dots and hyphens."
  }
}

variable "root_prefix" {
  description = "Key prefix of the txflow root inside the bucket, without slashes at either end: the root is s3://BUCKET/ROOT_PREFIX."
  type        = string
  default     = "txflow"

  validation {
    condition     = can(regex("^[A-Za-z0-9_.-]+(/[A-Za-z0-9_.-]+)*$", var.root_prefix))
    error_message = "root_prefix must be one or more path segments (letters, digits, _ . -) with no leading or trailing slash."
  }
}

variable "chunk_retention_days" {
  description = "Expire landing_zone/ chunks this many days after they were written; null keeps them forever. Only set it when the detector is sure to be past such old chunks (a detector restarting from scratch replays every chunk)."
  type        = number
  default     = null

  validation {
    condition     = var.chunk_retention_days == null ? true : var.chunk_retention_days >= 1
    error_message = "chunk_retention_days must be null or at least 1."
  }
}

variable "noncurrent_version_days" {
  description = "Days a replaced or deleted object version is kept (versioning is on; state/offset.csv is rewritten at every chunker tick, so old versions pile up without this)."
  type        = number
  default     = 7

  validation {
    condition     = var.noncurrent_version_days >= 1
    error_message = "noncurrent_version_days must be at least 1."
  }
}

variable "kms_key_arn" {
  description = "ARN of a KMS key for default encryption (SSE-KMS with a bucket key); null uses SSE-S3 (AES256)."
  type        = string
  default     = null

  validation {
    condition     = var.kms_key_arn == null ? true : can(regex("^arn:aws[a-z-]*:kms:", var.kms_key_arn))
    error_message = "kms_key_arn must be null or a KMS key ARN."
  }
}

variable "force_destroy" {
  description = "Allow terraform destroy to delete a bucket that still holds objects (every version is lost)."
  type        = bool
  default     = false
}

variable "tags" {
  description = "Tags for every resource."
  type        = map(string)
  default     = {}
}
