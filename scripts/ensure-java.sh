#!/usr/bin/env bash
# Spark 3.5 (AWS Glue 5.0) needs a Java runtime; Glue 5.0 runs Java 17.
# Detects Java 17+; installs OpenJDK 17 with apt-get when missing and we are root, otherwise fails clearly.
set -euo pipefail
java_major() {
  local j="${JAVA_HOME:+$JAVA_HOME/bin/}java"
  command -v "$j" >/dev/null 2>&1 || return 1
  "$j" -version 2>&1 | awk -F'"' '/version/ {split($2, a, "."); print (a[1] == "1" ? a[2] : a[1]); exit}'
}
major="$(java_major || true)"
if [ -n "$major" ] && [ "$major" -ge 17 ]; then
  exit 0
fi
if [ "$(id -u)" = "0" ] && command -v apt-get >/dev/null 2>&1; then
  echo "ensure-java: Java 17 not found (found: ${major:-none}); installing openjdk-17-jre-headless with apt-get" >&2
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq openjdk-17-jre-headless >/dev/null
  major="$(java_major || true)"
  if [ -n "$major" ] && [ "$major" -ge 17 ]; then exit 0; fi
fi
echo "ensure-java: Spark needs Java 17 or newer (AWS Glue 5.0 runs Java 17) and none was found (found: ${major:-none})." >&2
echo "  Install OpenJDK 17 (Debian/Ubuntu: 'apt-get install openjdk-17-jre-headless') or set JAVA_HOME." >&2
exit 1
