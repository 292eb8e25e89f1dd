#!/usr/bin/env bash
# Collects what `npm run verify` reads after `pulumi up` of a lane's stack: the stack's outputs
# (`pulumi stack output --json`) and, when the cluster is reachable, the pods of the lane's
# namespace. The outputs name the cluster (`cluster`: aws/<region>/<name>, gcp/<project>/<location>/<name>,
# existing/<context>/<name>); the kubeconfig is fetched with the job's OIDC credentials
# (aws eks update-kubeconfig, gcloud container clusters get-credentials).
# Usage: evidence.sh <stage> <stack> <namespace>; writes <stage>-outputs.json and maybe <stage>-pods.json.
set -euo pipefail
stage=$1 stack=$2 namespace=$3
pulumi stack output --json -s "${STACK_PREFIX:-}$stack" >"$stage-outputs.json"
cluster=$(node -p 'String(require("./'"$stage"'-outputs.json").cluster ?? "")')
IFS=/ read -r cloud a b c <<<"$cluster"
case "$cloud" in
  aws) aws eks update-kubeconfig --region "$a" --name "$b" >/dev/null ;;
  gcp) gcloud container clusters get-credentials "$c" --location "$b" --project "$a" >/dev/null ;;
  *) echo "evidence: cluster \"$cluster\" is not reachable from CI; verifying with the stack outputs only"; exit 0 ;;
esac
kubectl get pods -n "$namespace" -l app.kubernetes.io/managed-by=pulumi -o json >"$stage-pods.json"
echo "evidence: $stage-outputs.json and $stage-pods.json ($cluster)"
