output "role_arn" {
  description = "ARN of the IAM role."
  value       = aws_iam_role.this.arn
}

output "role_name" {
  description = "Name of the IAM role."
  value       = aws_iam_role.this.name
}

output "instance_profile_arn" {
  description = "ARN of the instance profile, to register in the Databricks workspace (modules/jobs); known only once the role's policies, the iam:PassRole grant and the profile exist and IAM has had time to propagate them (main.tf, time_sleep.iam_propagation)."
  value       = time_sleep.iam_propagation.triggers["instance_profile_arn"]

  # Whatever reads this ARN (the workspace registration) waits for these.
  depends_on = [
    aws_iam_instance_profile.this,
    aws_iam_role_policy.txflow,
    aws_iam_role_policy.pass_role,
    time_sleep.iam_propagation,
  ]
}
