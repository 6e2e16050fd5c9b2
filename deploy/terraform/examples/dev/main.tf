# txflow on AWS and Databricks, dev: the bucket, the role the clusters run
# with, and jobs X and Y. docs/deploy.md walks through init, plan and apply.

module "storage" {
  source = "../../modules/storage"

  bucket_name   = var.bucket_name
  root_prefix   = var.root_prefix
  force_destroy = var.force_destroy
  tags          = var.tags
}

module "access" {
  source = "../../modules/access"

  name                               = "${var.bucket_name}-txflow"
  bucket_arn                         = module.storage.bucket_arn
  root_prefix                        = module.storage.root_prefix
  read_only_prefixes                 = [var.input_prefix]
  databricks_cross_account_role_name = var.databricks_cross_account_role_name
  tags                               = var.tags
}

module "jobs" {
  source = "../../modules/jobs"

  instance_profile_arn = module.access.instance_profile_arn
  aws_region           = var.aws_region
  wheel_path           = abspath(var.wheel_path)
  source_uri           = "s3://${module.storage.bucket_name}/${var.input_prefix}/${var.source_key}"
  root_uri             = module.storage.root_uri
  importance_uri       = "s3://${module.storage.bucket_name}/${var.input_prefix}/${var.importance_key}"
  spark_version        = var.spark_version
  x_node_type_id       = var.x_node_type_id
  y_node_type_id       = var.y_node_type_id
  y_variant            = var.y_variant
  notification_emails  = var.notification_emails
  webhook_url          = var.webhook_url
  tags                 = var.tags
}
