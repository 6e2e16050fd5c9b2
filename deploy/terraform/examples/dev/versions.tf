terraform {
  required_version = ">= 1.6.0"

  # Exact provider releases for a reproducible apply; `terraform init`
  # records them in .terraform.lock.hcl (commit it in a real deployment).
  required_providers {
    aws = {
      source  = "hashicorp/aws"
      version = "~> 6.0"
    }
    databricks = {
      source  = "databricks/databricks"
      version = "~> 1.99"
    }
    time = {
      source  = "hashicorp/time"
      version = "~> 0.13"
    }
  }
}
