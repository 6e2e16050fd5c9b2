# Jobs X (chunker) and Y (detector) on Databricks job clusters, both
# continuous: Databricks restarts a run that ends, and txflow's own crash
# safety (docs/chunker.md, docs/detector.md) makes a restart free. The
# 5 s cadence of X lives in the process (--every 5s): a job cannot be
# scheduled more often than every 10 s.

locals {
  wheel_name = basename(var.wheel_path)

  # The CPython tag the runtime's Python needs: pip on the cluster refuses a
  # wheel of another tag, and a continuous job would fail and restart for
  # ever. 15.x: Python 3.11; 16.x and 17.x: Python 3.12 (Databricks Runtime
  # release notes, "System environment"). spark_version's validation admits
  # only these majors.
  wheel_tag_of_runtime = {
    "15" = "cp311"
    "16" = "cp312"
    "17" = "cp312"
  }
  wheel_tag = local.wheel_tag_of_runtime[split(".", var.spark_version)[0]]

  webhook_ids  = concat(databricks_notification_destination.webhook[*].id, var.webhook_destination_ids)
  start_emails = var.notify_on_start ? var.notification_emails : []
  start_hooks  = var.notify_on_start ? local.webhook_ids : []

  spark_checkpoint = var.spark_checkpoint_uri == null ? "${var.root_uri}/state/spark/checkpoint" : var.spark_checkpoint_uri

  # A single-node job cluster: the driver alone, Spark in local mode.
  single_node_conf = {
    "spark.databricks.cluster.profile" = "singleNode"
    "spark.master"                     = "local[*, 4]"
  }
  env = {
    AWS_REGION = var.aws_region
  }
}

# The workspace may launch clusters with this instance profile.
resource "databricks_instance_profile" "txflow" {
  instance_profile_arn = var.instance_profile_arn
}

# The wheel as a workspace file, installed on the job clusters as a task
# library (workspace files and Unity Catalog volumes are the supported
# library locations; DBFS libraries are deprecated). A rebuilt wheel with the
# same name is uploaded again because its md5 changes.
resource "databricks_workspace_file" "wheel" {
  source = var.wheel_path
  path   = "${var.workspace_dir}/${local.wheel_name}"
  md5    = filemd5(var.wheel_path)

  lifecycle {
    precondition {
      condition     = can(regex("-${local.wheel_tag}-${local.wheel_tag}-[^/]*\\.whl$", local.wheel_name))
      error_message = "spark_version ${var.spark_version} needs a ${local.wheel_tag} wheel (docs/deploy.md, The wheel); wheel_path is ${local.wheel_name}."
    }
  }
}

resource "databricks_notification_destination" "webhook" {
  count        = var.webhook_url == null ? 0 : 1
  display_name = "${var.name_prefix} alerts"

  config {
    generic_webhook {
      url = var.webhook_url
    }
  }
}

resource "databricks_job" "x" {
  name                = "${var.name_prefix}-x-chunker"
  description         = "Mechanism X: txflow chunk cuts the source into 10,000-record chunks every 5 s (continuous; restarts on failure)."
  max_concurrent_runs = 1
  tags                = var.tags

  continuous {
    pause_status    = "UNPAUSED"
    task_retry_mode = "ON_FAILURE"
  }

  job_cluster {
    job_cluster_key = "x"

    new_cluster {
      spark_version      = var.spark_version
      node_type_id       = var.x_node_type_id
      num_workers        = 0
      data_security_mode = "SINGLE_USER"
      spark_conf         = local.single_node_conf
      spark_env_vars     = local.env
      custom_tags        = merge(var.tags, { ResourceClass = "SingleNode" })

      aws_attributes {
        instance_profile_arn = databricks_instance_profile.txflow.id
        availability         = var.availability
        first_on_demand      = 1
        zone_id              = "auto"
      }
    }
  }

  task {
    task_key        = "chunk"
    job_cluster_key = "x"

    python_wheel_task {
      package_name = "txflow"
      entry_point  = "txflow"
      # Every flag here is checked against `txflow chunk --help` (tests/deploy).
      parameters = ["chunk", "--source", var.source_uri, "--root", var.root_uri, "--every", "5s"]
    }

    library {
      whl = databricks_workspace_file.wheel.workspace_path
    }
  }

  email_notifications {
    on_failure = var.notification_emails
    on_start   = local.start_emails
  }

  webhook_notifications {
    dynamic "on_failure" {
      for_each = local.webhook_ids
      content {
        id = on_failure.value
      }
    }
    dynamic "on_start" {
      for_each = local.start_hooks
      content {
        id = on_start.value
      }
    }
  }

  dynamic "run_as" {
    for_each = var.run_as_service_principal == null ? [] : [var.run_as_service_principal]
    content {
      service_principal_name = run_as.value
    }
  }
}

# Y, standalone: `txflow detect` on one node.
resource "databricks_job" "y_standalone" {
  count               = var.y_variant == "standalone" ? 1 : 0
  name                = "${var.name_prefix}-y-detector"
  description         = "Mechanism Y (standalone): txflow detect, exactly once across restarts (continuous; restarts on failure)."
  max_concurrent_runs = 1
  tags                = var.tags

  continuous {
    pause_status    = "UNPAUSED"
    task_retry_mode = "ON_FAILURE"
  }

  job_cluster {
    job_cluster_key = "y"

    new_cluster {
      spark_version      = var.spark_version
      node_type_id       = var.y_node_type_id
      num_workers        = 0
      data_security_mode = "SINGLE_USER"
      spark_conf         = local.single_node_conf
      spark_env_vars     = local.env
      custom_tags        = merge(var.tags, { ResourceClass = "SingleNode" })

      aws_attributes {
        instance_profile_arn = databricks_instance_profile.txflow.id
        availability         = var.availability
        first_on_demand      = 1
        zone_id              = "auto"
      }
    }
  }

  task {
    task_key        = "detect"
    job_cluster_key = "y"

    python_wheel_task {
      package_name = "txflow"
      entry_point  = "txflow"
      parameters   = ["detect", "--root", var.root_uri, "--importance", var.importance_uri]
    }

    library {
      whl = databricks_workspace_file.wheel.workspace_path
    }
  }

  # txflow detect is not a Spark stream, so the backlog metrics do not
  # exist for it; the run-duration rule is the alert Jobs offers.
  health {
    rules {
      metric = "RUN_DURATION_SECONDS"
      op     = "GREATER_THAN"
      value  = var.standalone_run_duration_alert_seconds
    }
  }

  email_notifications {
    on_failure                             = var.notification_emails
    on_start                               = local.start_emails
    on_duration_warning_threshold_exceeded = var.notification_emails
  }

  webhook_notifications {
    dynamic "on_failure" {
      for_each = local.webhook_ids
      content {
        id = on_failure.value
      }
    }
    dynamic "on_start" {
      for_each = local.start_hooks
      content {
        id = on_start.value
      }
    }
    dynamic "on_duration_warning_threshold_exceeded" {
      for_each = local.webhook_ids
      content {
        id = on_duration_warning_threshold_exceeded.value
      }
    }
  }

  dynamic "run_as" {
    for_each = var.run_as_service_principal == null ? [] : [var.run_as_service_principal]
    content {
      service_principal_name = run_as.value
    }
  }
}

# Y, spark: `txflow-spark detect`, Structured Streaming over Delta tables
# (docs/spark.md), on the cluster's own Spark session.
resource "databricks_job" "y_spark" {
  count               = var.y_variant == "spark" ? 1 : 0
  name                = "${var.name_prefix}-y-detector-spark"
  description         = "Mechanism Y (spark): txflow-spark detect, Structured Streaming on Delta, exactly once (continuous; restarts on failure)."
  max_concurrent_runs = 1
  tags                = var.tags

  continuous {
    pause_status    = "UNPAUSED"
    task_retry_mode = "ON_FAILURE"
  }

  job_cluster {
    job_cluster_key = "y"

    new_cluster {
      spark_version      = var.spark_version
      node_type_id       = var.y_node_type_id
      num_workers        = var.spark_num_workers
      data_security_mode = "SINGLE_USER"
      spark_env_vars     = local.env
      custom_tags        = var.tags

      aws_attributes {
        instance_profile_arn = databricks_instance_profile.txflow.id
        availability         = var.availability
        first_on_demand      = 1
        zone_id              = "auto"
      }
    }
  }

  task {
    task_key        = "detect"
    job_cluster_key = "y"

    python_wheel_task {
      package_name = "txflow"
      entry_point  = "txflow-spark"
      parameters = [
        "detect", "--root", var.root_uri, "--importance", var.importance_uri,
        "--checkpoint", local.spark_checkpoint,
      ]
    }

    library {
      whl = databricks_workspace_file.wheel.workspace_path
    }
  }

  # Chunks waiting for the stream (10-minute averages, Jobs API).
  health {
    rules {
      metric = "STREAMING_BACKLOG_FILES"
      op     = "GREATER_THAN"
      value  = var.backlog_files_threshold
    }
    rules {
      metric = "STREAMING_BACKLOG_SECONDS"
      op     = "GREATER_THAN"
      value  = var.backlog_seconds_threshold
    }
  }

  email_notifications {
    on_failure                    = var.notification_emails
    on_start                      = local.start_emails
    on_streaming_backlog_exceeded = var.notification_emails
  }

  webhook_notifications {
    dynamic "on_failure" {
      for_each = local.webhook_ids
      content {
        id = on_failure.value
      }
    }
    dynamic "on_start" {
      for_each = local.start_hooks
      content {
        id = on_start.value
      }
    }
    dynamic "on_streaming_backlog_exceeded" {
      for_each = local.webhook_ids
      content {
        id = on_streaming_backlog_exceeded.value
      }
    }
  }

  dynamic "run_as" {
    for_each = var.run_as_service_principal == null ? [] : [var.run_as_service_principal]
    content {
      service_principal_name = run_as.value
    }
  }
}
