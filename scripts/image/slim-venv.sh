#!/bin/sh
# Image diet: remove from the runtime venv what the function never imports. Runs in the Dockerfile's `slim`
# stage, after `pip install -r requirements.txt` and before the venv is copied into the runtime image.
#
#   slim-venv.sh VENV
#
# Every removal is a whole package or folder that nothing imports at run time; tests/image proves the image
# still answers every sample event and HTTP route after it. Licence files stay.
set -eu
venv=${1:?usage: slim-venv.sh VENV}
site=$(echo "$venv"/lib/python3*/site-packages)
[ -d "$site" ] || { echo "no site-packages under $venv" >&2; exit 1; }
before=$(du -sk "$venv" | cut -f1)

# Installers: nothing installs into a read-only Lambda image. (The venv's `pip` script goes with them.)
rm -rf "$site"/pip "$site"/pip-*.dist-info "$site"/setuptools "$site"/setuptools-*.dist-info \
    "$site"/pkg_resources "$site"/_distutils_hack "$site"/distutils-precedence.pth \
    "$site"/wheel "$site"/wheel-*.dist-info
rm -f "$venv"/bin/pip "$venv"/bin/pip3 "$venv"/bin/pip3.* "$venv"/bin/wheel

# Packages' own test suites and typing stubs (numpy alone ships ~17 MB of tests).
find "$site" -depth -type d -name tests -exec rm -rf {} +
find "$site" -type f \( -name '*.pyi' -o -name '*.pyx' -o -name '*.pxd' \) -delete

# onnxruntime's Python tooling (model conversion, quantization, transformer optimisers): inference uses only
# onnxruntime.capi.
rm -rf "$site"/onnxruntime/transformers "$site"/onnxruntime/quantization "$site"/onnxruntime/tools \
    "$site"/onnxruntime/datasets

# botocore ships the API models of ~450 AWS services; FRS talks to S3 (galleries, input images, camera objects),
# SNS (CCTV alerts) and Secrets Manager (PostgreSQL password); STS stays for role-based credential providers. The top-level JSON files
# (endpoints, partitions, retry and default configuration) are kept.
for service in "$site"/botocore/data/*/; do
    case $(basename "$service") in
        s3 | sns | secretsmanager | sts) ;;
        *) rm -rf "$service" ;;
    esac
done

# Empty byte-code folders left behind by the removals above.
find "$site" -depth -type d -name __pycache__ -empty -delete

after=$(du -sk "$venv" | cut -f1)
echo "slim-venv: $venv $((before / 1024)) MB -> $((after / 1024)) MB"
