#!/usr/bin/env bash
# Commits promotion files (releases, history, scans, a team stack's pointer) as the bot and pushes
# them to the branch the run is on: promotion state lives in git (docs/promotion.md). A bot commit,
# not a pull request: every record is already checked by the command that wrote it, and the lane's
# `concurrency:` group keeps one run per lane. Lanes write disjoint files, so a push that lost a
# race with another lane is rebased and retried; a conflict means two runs of one lane and stops.
# Usage: push-history.sh "<message>" <path>...
set -euo pipefail
message=$1
shift
git config user.name "github-actions[bot]"
git config user.email "41898282+github-actions[bot]@users.noreply.github.com"
git add -- "$@"
if git diff --cached --quiet; then
  echo "push-history: nothing to commit for: $message"
  exit 0
fi
git commit -q -m "$message"
branch=${GITHUB_REF_NAME:?GITHUB_REF_NAME is not set}
for attempt in 1 2 3 4 5; do
  if git push -q origin "HEAD:refs/heads/$branch"; then
    echo "push-history: pushed \"$message\" ($(git rev-parse --short HEAD)) to $branch"
    exit 0
  fi
  echo "push-history: push $attempt refused, rebasing on origin/$branch"
  git pull -q --rebase origin "$branch"
  sleep $((attempt * 2))
done
echo "::error::push-history: could not push \"$message\" to $branch after 5 attempts"
exit 1
