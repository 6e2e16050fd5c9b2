# tflint for deploy/terraform (tests/deploy runs it on every module folder).
# Only the bundled terraform ruleset: provider rulesets (aws) are plugins
# downloaded from the internet, which these machines cannot reach.
config {
  call_module_type = "local"
}

plugin "terraform" {
  enabled = true
  preset  = "all"
}
