#!/usr/bin/env bash
# Fetches the jars the Spark engine needs into DIR, once, with Maven (from
# Maven Central), so that Spark never downloads at run time:
#   DIR/      Delta Lake (delta-spark, delta-storage; Spark ships what they use)
#   DIR/s3a/  Hadoop's S3A connector and the AWS SDK modules it needs
#             (tools/spark-s3a/pom.xml), for s3:// and s3a:// roots
# Usage: tools/fetch-spark-jars.sh DIR
set -euo pipefail
dir=$(realpath -m "${1:?usage: fetch-spark-jars.sh DIR}")
plugin=org.apache.maven.plugins:maven-dependency-plugin:2.8
artifacts=(io.delta:delta-spark_4.2_2.13:4.4.0 io.delta:delta-storage:4.4.0)
mkdir -p "$dir"
for a in "${artifacts[@]}"; do
  IFS=: read -r _ name version <<<"$a"
  [[ -s "$dir/$name-$version.jar" ]] && continue
  mvn -q -B "$plugin:copy" -Dartifact="$a" -DoutputDirectory="$dir" >&2
done
if [[ ! -s "$dir/s3a/hadoop-aws-3.5.0.jar" ]]; then
  rm -rf "$dir/s3a.tmp"
  mvn -q -B -f "$(dirname "$0")/spark-s3a/pom.xml" "$plugin:copy-dependencies" \
    -DincludeScope=runtime -DoutputDirectory="$dir/s3a.tmp" >&2
  rm -rf "$dir/s3a" && mv "$dir/s3a.tmp" "$dir/s3a"
fi
