# The role a Databricks cluster runs with (through its instance profile):
# txflow's S3 client takes the role's credentials from the instance metadata
# service, so no key is stored anywhere. Least privilege: the S3 calls txflow
# makes (src/io/s3_file_system.cc), on the root's prefix only.

locals {
  bucket_arn = var.bucket_arn
  root       = var.root_prefix
  readable   = var.read_only_prefixes
}

data "aws_iam_policy_document" "assume_by_ec2" {
  statement {
    actions = ["sts:AssumeRole"]

    principals {
      type        = "Service"
      identifiers = ["ec2.amazonaws.com"]
    }
  }
}

resource "aws_iam_role" "this" {
  name                 = var.name
  description          = "txflow jobs on Databricks: the txflow root s3 prefix, nothing else"
  assume_role_policy   = data.aws_iam_policy_document.assume_by_ec2.json
  max_session_duration = 3600
  tags                 = var.tags
}

data "aws_iam_policy_document" "txflow" {
  # ListObjectsV2 (s3:ListBucket), always with prefix=ROOT/...: the next
  # chunks (landing_zone/), detector snapshots and lock/probe objects
  # (state/), detection files. The condition keeps listings inside the root.
  # GetBucketLocation: Databricks' own S3 file system (the spark variant's
  # Delta tables and checkpoint) asks the bucket's region; it shows no keys.
  statement {
    sid       = "ListRootPrefix"
    actions   = ["s3:ListBucket"]
    resources = [local.bucket_arn]

    condition {
      test     = "StringLike"
      variable = "s3:prefix"
      values = concat(
        [local.root, "${local.root}/*"],
        flatten([for p in local.readable : [p, "${p}/*"]]),
      )
    }
  }

  statement {
    sid       = "BucketRegion"
    actions   = ["s3:GetBucketLocation"]
    resources = [local.bucket_arn]
  }

  # s3:GetObject: GetObject (chunks, offset, locks, snapshots, whole and
  #   ranged reads of the source) and HeadObject (Stat).
  # s3:PutObject: PutObject, including the conditional writes txflow's
  #   correctness rests on (If-None-Match: * creates the lock and each chunk
  #   once; If-Match replaces the offset and lock only if unchanged), and the
  #   multipart calls of a large write (CreateMultipartUpload, UploadPart,
  #   CompleteMultipartUpload, also conditional), which S3 authorises as
  #   s3:PutObject.
  # s3:DeleteObject: the lease lock's release (state/chunker.lock,
  #   state/detector.lock), the conditional-write probe's scratch objects
  #   (state/probe/) and a superseded detector snapshot (state/detector/);
  #   the spark variant's Delta log and checkpoint clean-up.
  # s3:AbortMultipartUpload: a failed multipart write is aborted.
  # Not granted: s3:ListMultipartUploadParts (txflow never calls ListParts),
  # s3:PutObjectAcl (ACLs are disabled), any bucket-configuration action.
  statement {
    sid = "ReadWriteRoot"
    actions = [
      "s3:GetObject",
      "s3:PutObject",
      "s3:DeleteObject",
      "s3:AbortMultipartUpload",
    ]
    resources = ["${local.bucket_arn}/${local.root}/*"]
  }

  # --source and --importance: read only (GetObject, ranged GetObject, HeadObject).
  dynamic "statement" {
    for_each = length(local.readable) == 0 ? [] : [1]
    content {
      sid       = "ReadInputs"
      actions   = ["s3:GetObject"]
      resources = [for p in local.readable : "${local.bucket_arn}/${p}/*"]
    }
  }
}

resource "aws_iam_role_policy" "txflow" {
  name   = "txflow-root-access"
  role   = aws_iam_role.this.id
  policy = data.aws_iam_policy_document.txflow.json
}

resource "aws_iam_instance_profile" "this" {
  name = var.name
  role = aws_iam_role.this.name
  tags = var.tags
}

# Databricks launches clusters with its cross-account role, which must be
# allowed to hand this role to the EC2 instances.
data "aws_iam_policy_document" "pass_role" {
  statement {
    sid       = "PassTxflowRole"
    actions   = ["iam:PassRole"]
    resources = [aws_iam_role.this.arn]
  }
}

resource "aws_iam_role_policy" "pass_role" {
  count  = var.databricks_cross_account_role_name == null ? 0 : 1
  name   = "pass-${var.name}"
  role   = var.databricks_cross_account_role_name
  policy = data.aws_iam_policy_document.pass_role.json
}

# The workspace verifies an instance profile when it is registered
# (databricks_instance_profile in modules/jobs: a dry-run launch with it),
# and that fails with "Invalid IAM Instance Profile ARN" while a new profile
# or the cross-account role's iam:PassRole is still propagating through IAM
# (databricks/terraform-provider-databricks issues 779 and 1226). So the
# ARN is handed out (output instance_profile_arn) only after the role's
# policies and the profile exist and a further 30 s have passed.
# Waiting keeps that verification, which catches a missing PassRole at
# apply; skip_validation would instead defer the error to the first cluster
# start, where a continuous job fails and restarts over and over.
resource "time_sleep" "iam_propagation" {
  create_duration = "30s"

  # A replaced profile or policy waits again.
  triggers = {
    instance_profile_arn = aws_iam_instance_profile.this.arn
    role_policy          = aws_iam_role_policy.txflow.policy
    pass_role_policy     = join("", aws_iam_role_policy.pass_role[*].policy)
  }

  depends_on = [
    aws_iam_instance_profile.this,
    aws_iam_role_policy.txflow,
    aws_iam_role_policy.pass_role,
  ]
}
