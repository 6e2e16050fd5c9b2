# The bucket that holds one txflow root (SPEC: landing_zone/, state/,
# detections/, quarantine/ under s3://BUCKET/ROOT_PREFIX). S3 has no
# directories: the prefixes exist once txflow writes the first key under
# each, so none is created here; outputs.tf names them.

locals {
  prefixes = ["landing_zone", "state", "detections", "quarantine"]
}

resource "aws_s3_bucket" "this" {
  bucket        = var.bucket_name
  force_destroy = var.force_destroy
  tags          = var.tags
}

# Versioning: an overwritten or deleted object (offset, checkpoint, a
# detection file) can be recovered after an operator's mistake.
resource "aws_s3_bucket_versioning" "this" {
  bucket = aws_s3_bucket.this.id

  versioning_configuration {
    status = "Enabled"
  }
}

resource "aws_s3_bucket_server_side_encryption_configuration" "this" {
  bucket = aws_s3_bucket.this.id

  rule {
    apply_server_side_encryption_by_default {
      sse_algorithm     = var.kms_key_arn == null ? "AES256" : "aws:kms"
      kms_master_key_id = var.kms_key_arn
    }
    # With SSE-KMS, one data key per bucket instead of one KMS call per object.
    bucket_key_enabled = var.kms_key_arn != null
  }
}

resource "aws_s3_bucket_public_access_block" "this" {
  bucket = aws_s3_bucket.this.id

  block_public_acls       = true
  block_public_policy     = true
  ignore_public_acls      = true
  restrict_public_buckets = true
}

# ACLs off: the bucket owner owns every object, access is by policy only.
resource "aws_s3_bucket_ownership_controls" "this" {
  bucket = aws_s3_bucket.this.id

  rule {
    object_ownership = "BucketOwnerEnforced"
  }
}

data "aws_iam_policy_document" "tls_only" {
  statement {
    sid     = "DenyInsecureTransport"
    effect  = "Deny"
    actions = ["s3:*"]
    resources = [
      aws_s3_bucket.this.arn,
      "${aws_s3_bucket.this.arn}/*",
    ]

    principals {
      type        = "*"
      identifiers = ["*"]
    }

    condition {
      test     = "Bool"
      variable = "aws:SecureTransport"
      values   = ["false"]
    }
  }

  statement {
    sid     = "DenyOutdatedTls"
    effect  = "Deny"
    actions = ["s3:*"]
    resources = [
      aws_s3_bucket.this.arn,
      "${aws_s3_bucket.this.arn}/*",
    ]

    principals {
      type        = "*"
      identifiers = ["*"]
    }

    condition {
      test     = "NumericLessThan"
      variable = "s3:TlsVersion"
      values   = ["1.2"]
    }
  }
}

resource "aws_s3_bucket_policy" "tls_only" {
  bucket = aws_s3_bucket.this.id
  policy = data.aws_iam_policy_document.tls_only.json

  # A policy put before the public access block could be judged public.
  depends_on = [aws_s3_bucket_public_access_block.this]
}

resource "aws_s3_bucket_lifecycle_configuration" "this" {
  bucket = aws_s3_bucket.this.id

  # txflow aborts a failed multipart upload itself, best effort; one whose
  # process died in between is invisible and would be billed forever. The
  # whole bucket: an interrupted upload of the inputs counts too.
  rule {
    id     = "abort-incomplete-multipart-uploads"
    status = "Enabled"

    filter {}

    abort_incomplete_multipart_upload {
      days_after_initiation = 1
    }
  }

  rule {
    id     = "expire-noncurrent-versions"
    status = "Enabled"

    filter {
      prefix = "${var.root_prefix}/"
    }

    noncurrent_version_expiration {
      noncurrent_days = var.noncurrent_version_days
    }

    expiration {
      expired_object_delete_marker = true
    }
  }

  # Old chunks: off unless chunk_retention_days is set. The rule is always
  # there, disabled when off, so turning it on is a one-line change (and
  # checkov reads static rules; it mis-renders a dynamic rule beside them).
  rule {
    id     = "expire-old-chunks"
    status = var.chunk_retention_days == null ? "Disabled" : "Enabled"

    filter {
      prefix = "${var.root_prefix}/landing_zone/"
    }

    expiration {
      days = var.chunk_retention_days == null ? 36500 : var.chunk_retention_days
    }
  }

  depends_on = [aws_s3_bucket_versioning.this]
}
