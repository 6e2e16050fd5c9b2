# No credential here or in any .tf file: the AWS provider takes them from
# the environment (AWS_PROFILE, SSO, a role), the Databricks provider from
# DATABRICKS_HOST plus a token, OAuth or a ~/.databrickscfg profile.

provider "aws" {
  region = var.aws_region

  default_tags {
    tags = var.tags
  }
}

provider "databricks" {
  host    = var.databricks_host
  profile = var.databricks_profile
}

# modules/access waits for IAM propagation with time_sleep; the provider has
# no settings, and is named here so that this root module pins it.
provider "time" {}
