output "bucket_name" {
  description = "Name of the bucket."
  value       = aws_s3_bucket.this.id
}

output "bucket_arn" {
  description = "ARN of the bucket."
  value       = aws_s3_bucket.this.arn
}

output "root_prefix" {
  description = "Key prefix of the txflow root inside the bucket."
  value       = var.root_prefix
}

output "root_uri" {
  description = "The txflow root, as given to --root."
  value       = "s3://${aws_s3_bucket.this.id}/${var.root_prefix}"
}

output "prefix_uris" {
  description = "The root's prefixes (SPEC): landing_zone, state, detections, quarantine."
  value       = { for p in local.prefixes : p => "s3://${aws_s3_bucket.this.id}/${var.root_prefix}/${p}/" }
}
