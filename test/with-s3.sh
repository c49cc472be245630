#!/usr/bin/env bash
# Runs a command with a private radosgw up and its S3_* settings exported, then stops the
# server by PID whatever happened. Used by `npm test`.
#   bash test/with-s3.sh vitest run
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

export S3_STATE_DIR=${S3_STATE_DIR:-$PWD/.local/ceph-test-$$}
trap 'bash infra/local/s3.sh down >&2 || true' EXIT
settings=$(bash infra/local/s3.sh up)
set -a
eval "$settings"
set +a
"$@"
