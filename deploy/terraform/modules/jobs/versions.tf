terraform {
  required_version = ">= 1.6.0"

  required_providers {
    databricks = {
      source = "databricks/databricks"
      # continuous.task_retry_mode and health rules on streaming backlog
      # need a recent provider.
      version = ">= 1.99.0, < 2.0.0"
    }
  }
}
