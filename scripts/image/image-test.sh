#!/usr/bin/env bash
# `make image-test`: build the image and run tests/image against it under AWS's emulator and the SAM CLI.
# Starts a Docker daemon if none runs and stops it again at the end, also when a step fails.
set -euo pipefail
cd "$(dirname "$0")/../.."
export SAM_CLI_TELEMETRY=0 FRS_PACK=${FRS_PACK:-open}
export FRS_IMAGE=${FRS_IMAGE:-frs:$FRS_PACK}
started=$(date +%s)
timings=.cache/image/timings.json
rm -f "$timings"

scripts/image/docker.sh up
trap 'scripts/image/docker.sh down' EXIT
scripts/image/build.sh
built=$(date +%s)
status=0
.venv/bin/pytest tests/image || status=$?
[[ -f $timings ]] && { echo "timings (tests/image/test_cold_start.py):"; cat "$timings"; echo; }
echo "make image-test: build $((built - started)) s, tests $(($(date +%s) - built)) s"
exit "$status"
