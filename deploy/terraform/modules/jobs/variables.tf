variable "name_prefix" {
  description = "Prefix of the job names and of the workspace folder."
  type        = string
  default     = "txflow"

  validation {
    condition     = can(regex("^[A-Za-z0-9_-]{1,40}$", var.name_prefix))
    error_message = "name_prefix must be 1-40 letters, digits, _ or -."
  }
}

variable "instance_profile_arn" {
  description = "Instance profile the job clusters run with (modules/access output instance_profile_arn); registered in the workspace here."
  type        = string

  validation {
    condition     = can(regex("^arn:aws[a-z-]*:iam::[0-9]{12}:instance-profile/.+$", var.instance_profile_arn))
    error_message = "instance_profile_arn must be an IAM instance profile ARN."
  }
}

variable "aws_region" {
  description = "Region of the bucket; exported as AWS_REGION to the clusters, where txflow's S3 client reads it."
  type        = string

  validation {
    condition     = can(regex("^[a-z]{2}(-[a-z]+)+-[0-9]$", var.aws_region))
    error_message = "aws_region must look like us-east-1."
  }
}

variable "wheel_path" {
  description = "Local path of the txflow wheel that `make wheel` builds (build/dist/txflow-0.1.0-cp311-cp311-linux_x86_64.whl); uploaded to the workspace. Its CPython tag must be the one spark_version's Python needs (cp311 for 15.x, cp312 for 16.x and 17.x): the wheel upload's precondition (main.tf) checks it."
  type        = string

  validation {
    condition     = can(regex("txflow-[^/]+-(cp311-cp311|cp312-cp312)-[^/]*linux_x86_64\\.whl$", var.wheel_path))
    error_message = "wheel_path must name a txflow cp311 or cp312 linux x86_64 wheel (make wheel)."
  }
}

variable "workspace_dir" {
  description = "Workspace folder the wheel is uploaded to."
  type        = string
  default     = "/Shared/txflow"

  validation {
    condition     = can(regex("^/[^ ]+[^/]$", var.workspace_dir))
    error_message = "workspace_dir must be an absolute workspace path without a trailing slash."
  }
}

variable "source_uri" {
  description = "The growing transaction log job X chunks (--source), e.g. s3://bucket/input/transactions.csv."
  type        = string

  validation {
    condition     = can(regex("^s3://[a-z0-9][a-z0-9.-]+[a-z0-9]/.+", var.source_uri))
    error_message = "source_uri must be an s3:// URI of an object."
  }
}

variable "root_uri" {
  description = "The txflow root (--root), e.g. s3://bucket/txflow (modules/storage output root_uri)."
  type        = string

  validation {
    condition     = can(regex("^s3://[a-z0-9][a-z0-9.-]+[a-z0-9](/[^/]+)*$", var.root_uri))
    error_message = "root_uri must be an s3:// URI without a trailing slash."
  }
}

variable "importance_uri" {
  description = "CustomerImportance.csv for job Y (--importance), e.g. s3://bucket/input/CustomerImportance.csv."
  type        = string

  validation {
    condition     = can(regex("^s3://[a-z0-9][a-z0-9.-]+[a-z0-9]/.+", var.importance_uri))
    error_message = "importance_uri must be an s3:// URI of an object."
  }
}

variable "y_variant" {
  description = "How job Y runs the detector: \"standalone\" (txflow detect on one node) or \"spark\" (txflow-spark detect, Structured Streaming on a multi-node cluster)."
  type        = string
  default     = "standalone"

  validation {
    condition     = contains(["standalone", "spark"], var.y_variant)
    error_message = "y_variant must be \"standalone\" or \"spark\"."
  }
}

variable "spark_checkpoint_uri" {
  description = "Spark checkpoint of the spark variant (--checkpoint); null: ROOT/state/spark/checkpoint, txflow-spark's own default."
  type        = string
  default     = null

  validation {
    condition     = var.spark_checkpoint_uri == null ? true : can(regex("^s3://[a-z0-9][a-z0-9.-]+[a-z0-9]/.+", var.spark_checkpoint_uri))
    error_message = "spark_checkpoint_uri must be null or an s3:// URI."
  }
}

variable "spark_version" {
  description = "Databricks Runtime of every job cluster. Default 15.4 LTS (Python 3.11: the cp311 wheel); 16.x and 17.x run Python 3.12 and need the cp312 wheel (local.wheel_tag_of_runtime in main.tf)."
  type        = string
  default     = "15.4.x-scala2.12"

  validation {
    # Only the runtimes whose Python is known (local.wheel_tag_of_runtime):
    # a wheel pip refuses fails every run of a continuous job.
    condition     = can(regex("^1[5-7]\\.[0-9]+\\.x-(cpu-ml-)?scala2\\.1[23]$", var.spark_version))
    error_message = "spark_version must be a Databricks Runtime 15.x, 16.x or 17.x key such as 15.4.x-scala2.12 or 16.4.x-scala2.12."
  }
}

variable "x_node_type_id" {
  description = "EC2 instance type of job X's single node (the chunker needs little: one core, some MiB)."
  type        = string
  default     = "m5d.large"

  validation {
    condition     = can(regex("^[a-z][a-z0-9-]*\\.[0-9]*x?(nano|micro|small|medium|large|xlarge|metal)$", var.x_node_type_id))
    error_message = "x_node_type_id must be an EC2 instance type such as m5d.large."
  }
}

variable "y_node_type_id" {
  description = "EC2 instance type of job Y's node(s): the single node (standalone) or the driver and each worker (spark)."
  type        = string
  default     = "m5d.large"

  validation {
    condition     = can(regex("^[a-z][a-z0-9-]*\\.[0-9]*x?(nano|micro|small|medium|large|xlarge|metal)$", var.y_node_type_id))
    error_message = "y_node_type_id must be an EC2 instance type such as m5d.large."
  }
}

variable "spark_num_workers" {
  description = "Workers of the spark variant's cluster (besides the driver)."
  type        = number
  default     = 2

  validation {
    condition     = var.spark_num_workers >= 1 && var.spark_num_workers <= 64 && floor(var.spark_num_workers) == var.spark_num_workers
    error_message = "spark_num_workers must be a whole number from 1 to 64."
  }
}

variable "availability" {
  description = "EC2 market of the clusters: ON_DEMAND (default: a continuous job is not worth the restarts of a reclaimed spot node), SPOT or SPOT_WITH_FALLBACK. The spark variant's driver is on demand in every case."
  type        = string
  default     = "ON_DEMAND"

  validation {
    condition     = contains(["ON_DEMAND", "SPOT", "SPOT_WITH_FALLBACK"], var.availability)
    error_message = "availability must be ON_DEMAND, SPOT or SPOT_WITH_FALLBACK."
  }
}

variable "notification_emails" {
  description = "Addresses told when a run fails, when Y falls behind (backlog or run-duration rule) and when a run starts (a restart after a failure shows as a start)."
  type        = list(string)

  validation {
    condition     = length(var.notification_emails) > 0 && alltrue([for e in var.notification_emails : can(regex("^[^@ ]+@[^@ ]+\\.[^@ ]+$", e))])
    error_message = "notification_emails must hold at least one e-mail address."
  }
}

variable "webhook_url" {
  description = "URL of a webhook (Slack, PagerDuty events, any HTTPS endpoint) made a workspace notification destination and called on the same events as e-mail; null: none. Creating a destination needs workspace admin."
  type        = string
  default     = null
  sensitive   = true

  validation {
    condition     = var.webhook_url == null ? true : can(regex("^https://", var.webhook_url))
    error_message = "webhook_url must be null or an https:// URL."
  }
}

variable "webhook_destination_ids" {
  description = "IDs of existing workspace notification destinations, called like webhook_url."
  type        = list(string)
  default     = []

  validation {
    # The Jobs API takes at most 3 destinations per event; one is kept for webhook_url.
    condition     = length(var.webhook_destination_ids) <= 2
    error_message = "webhook_destination_ids may hold at most 2 IDs (3 destinations per event, one kept for webhook_url)."
  }
}

variable "notify_on_start" {
  description = "Also notify when a run starts: for a continuous job that is the first start and every restart after a failure or an update (recovery)."
  type        = bool
  default     = true
}

variable "backlog_files_threshold" {
  description = "Spark variant: alert when more than this many chunks wait (STREAMING_BACKLOG_FILES, 10-minute average). One chunk every 5 s: 60 is 5 minutes behind."
  type        = number
  default     = 60

  validation {
    condition     = var.backlog_files_threshold >= 1
    error_message = "backlog_files_threshold must be at least 1."
  }
}

variable "backlog_seconds_threshold" {
  description = "Spark variant: alert when the oldest waiting input is older than this (STREAMING_BACKLOG_SECONDS, 10-minute average)."
  type        = number
  default     = 600

  validation {
    condition     = var.backlog_seconds_threshold >= 30
    error_message = "backlog_seconds_threshold must be at least 30."
  }
}

variable "standalone_run_duration_alert_seconds" {
  description = "Standalone variant: alert when one run has lasted longer than this (RUN_DURATION_SECONDS). A healthy continuous run never ends, so this is a periodic 'still the same run' note, not a progress check (docs/deploy.md)."
  type        = number
  default     = 604800

  validation {
    condition     = var.standalone_run_duration_alert_seconds >= 3600
    error_message = "standalone_run_duration_alert_seconds must be at least 3600."
  }
}

variable "run_as_service_principal" {
  description = "Application ID of a service principal the jobs run as; null: the identity that applies Terraform."
  type        = string
  default     = null
}

variable "tags" {
  description = "Tags on the jobs and their clusters (the clusters' tags reach the EC2 instances, for cost reports)."
  type        = map(string)
  default     = {}
}
