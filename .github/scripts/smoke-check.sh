#!/usr/bin/env bash
# Post-deploy smoke check: starts one execution of a state machine of this account and region and waits for it.
#
#   smoke-check.sh <state-machine-name> <execution-name> <input-json> <timeout-seconds> <poll-seconds>
#
# Exit 0 when the execution SUCCEEDED; 1 when it FAILED, TIMED_OUT, ABORTED or is still running at the timeout
# (the error and cause are printed); 2 on bad arguments. Needs AWS credentials and AWS_REGION (the workflow's
# configure-aws-credentials step sets both); uses only sts:GetCallerIdentity, states:StartExecution and
# states:DescribeExecution.
set -euo pipefail

usage() {
  echo "usage: smoke-check.sh <state-machine-name> <execution-name> <input-json> <timeout-seconds> <poll-seconds>" >&2
  exit 2
}
[ "$#" -eq 5 ] || usage
name="$1" execution="$2" input="$3" timeout="$4" poll="$5"
case "$timeout$poll" in '' | *[!0-9]*) echo "smoke-check: timeout and poll must be whole seconds" >&2; usage ;; esac
[ "$poll" -ge 1 ] || { echo "smoke-check: poll must be at least 1 second" >&2; usage; }
[[ "$name" =~ ^[A-Za-z0-9_-]{1,80}$ ]] || { echo "smoke-check: invalid state machine name '$name'" >&2; usage; }
[[ "$execution" =~ ^[A-Za-z0-9_-]{1,80}$ ]] || { echo "smoke-check: invalid execution name '$execution'" >&2; usage; }
region="${AWS_REGION:-${AWS_DEFAULT_REGION:-}}"
[ -n "$region" ] || { echo "smoke-check: AWS_REGION is not set" >&2; exit 2; }

caller="$(aws sts get-caller-identity --query Arn --output text)"
partition="$(cut -d: -f2 <<<"$caller")"
account="$(cut -d: -f5 <<<"$caller")"
machine="arn:${partition}:states:${region}:${account}:stateMachine:${name}"

echo "smoke-check: starting ${execution} of ${machine} with ${input}"
arn="$(aws stepfunctions start-execution --state-machine-arn "$machine" --name "$execution" --input "$input" \
  --query executionArn --output text)"

deadline=$((SECONDS + timeout))
while :; do
  status="$(aws stepfunctions describe-execution --execution-arn "$arn" --query status --output text)"
  case "$status" in
    SUCCEEDED)
      echo "smoke-check: ${arn} SUCCEEDED after $((SECONDS)) s"
      exit 0
      ;;
    RUNNING | PENDING_REDRIVE) ;;
    *)
      echo "::error::smoke check: ${arn} ended ${status}"
      aws stepfunctions describe-execution --execution-arn "$arn" --query '{error: error, cause: cause}' --output json
      exit 1
      ;;
  esac
  if [ "$SECONDS" -ge "$deadline" ]; then
    echo "::error::smoke check: ${arn} still ${status} after ${timeout} s"
    exit 1
  fi
  sleep "$poll"
done
