#!/usr/bin/env bash
# `make image`: build the Lambda image from the Dockerfile and write the SAM built template that points at it.
#
#   FRS_PACK=open FRS_IMAGE=frs:open [PYTHON_IMAGE=...] scripts/image/build.sh
#
# Base image: PYTHON_IMAGE if given; else the Dockerfile's default (python:3.11-slim-bookworm) when it is present
# or can be pulled; else, where no registry is reachable, a local Debian base (scripts/image/debian-base.sh,
# built once and cached as FRS_LOCAL_BASE). `--network host`: pip and the model fetch inside the build use the
# host's own path to the package registries.
set -euo pipefail
cd "$(dirname "$0")/../.."

pack=${FRS_PACK:-open}
image=${FRS_IMAGE:-frs:$pack}
local_base=${FRS_LOCAL_BASE:-frs-base:bookworm}
[[ -f models/$pack.json ]] || { echo "unknown pack '$pack': no models/$pack.json" >&2; exit 2; }

default_base=$(sed -n 's/^ARG PYTHON_IMAGE=//p' Dockerfile)
base=${PYTHON_IMAGE:-}
if [[ -z $base ]]; then
    if docker image inspect "$default_base" >/dev/null 2>&1 || docker pull --quiet "$default_base" >/dev/null 2>&1; then
        base=$default_base
    else
        echo "no registry reachable for $default_base: using the local Debian base $local_base"
        scripts/image/debian-base.sh "$local_base"
        base=$local_base
    fi
fi

echo "building $image (FRS_PACK=$pack, base $base)"
started=$(date +%s)
# The classic builder (as `sam build` drives it); BuildKit would need the buildx plugin with newer CLIs.
DOCKER_BUILDKIT=0 docker build --network host \
    --build-arg "PYTHON_IMAGE=$base" --build-arg "FRS_PACK=$pack" \
    -t "$image" .
echo "built $image in $(($(date +%s) - started)) s: $(docker image inspect --format '{{.Size}}' "$image" | awk '{printf "%.0f MB", $1 / 1e6}')"

# What `sam build` would leave behind, so that `sam local invoke` / `start-api` run this image.
.venv-image/bin/python scripts/image/built_template.py "$image" "$pack"
