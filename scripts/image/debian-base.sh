#!/usr/bin/env bash
# A local Python base image made from Debian packages, for machines that reach Debian's mirror and PyPI but no
# container registry. Stands in for python:3.11-slim-bookworm (same Debian release, same glibc, Python 3.11).
#
#   scripts/image/debian-base.sh IMAGE_NAME
#
# Cached: does nothing when IMAGE_NAME already exists (`docker image rm IMAGE_NAME` forces a rebuild).
# The mirror is the one this machine's apt uses; the host's CA bundle goes into the image, so that pip inside
# `docker build` trusts the same path to the package registry as pip on the host.
set -euo pipefail

name=${1:?usage: debian-base.sh IMAGE_NAME}
suite=bookworm
if docker image inspect "$name" >/dev/null 2>&1; then
    echo "base image $name: present (cached)"
    exit 0
fi

# The first Debian archive (not the security one) that this machine's apt sources list for $suite, in either
# format: one-line sources.list ("deb [opts] URI SUITE ...") or deb822 *.sources ("URIs:" / "Suites:" stanzas).
debian_mirror() {
    local file
    for file in /etc/apt/sources.list /etc/apt/sources.list.d/*.list; do
        [[ -f $file ]] || continue
        awk -v suite="$suite" '$1 == "deb" { sub(/\[[^]]*\] */, ""); if ($3 == suite) { print $2; exit } }' "$file"
    done
    for file in /etc/apt/sources.list.d/*.sources; do
        [[ -f $file ]] || continue
        awk -v suite="$suite" '
            /^[[:space:]]*$/ { if (uri != "" && has) { print uri; exit } uri = ""; has = 0; next }
            /^URIs:/ { uri = $2 }
            /^Suites:/ { for (i = 2; i <= NF; i++) if ($i == suite) has = 1 }
            END { if (uri != "" && has) print uri }' "$file"
    done
}
mirror=${DEBIAN_MIRROR:-$(debian_mirror | grep -v -- '-security' | head -n 1)}
if [[ -z $mirror ]]; then
    echo "no Debian $suite mirror in /etc/apt/sources*; set DEBIAN_MIRROR=http://..." >&2
    exit 1
fi
ca_bundle=/etc/ssl/certs/ca-certificates.crt
[[ -s $ca_bundle ]] || { echo "no CA bundle at $ca_bundle" >&2; exit 1; }

rootfs=$(mktemp -d /tmp/frs-base-rootfs.XXXXXX)
trap 'rm -rf "$rootfs"' EXIT
echo "base image $name: debootstrap $suite from $mirror"
started=$(date +%s)
# minbase + Python: what the Dockerfile's stages use (python -m venv, pip over TLS). Nothing for building C.
debootstrap --variant=minbase --include=python3,python3-venv,ca-certificates "$suite" "$rootfs" "$mirror" \
    >"$rootfs.log" 2>&1 || { tail -n 30 "$rootfs.log" >&2; rm -f "$rootfs.log"; exit 1; }
rm -f "$rootfs.log"
ln -sf python3 "$rootfs/usr/bin/python"
cp "$ca_bundle" "$rootfs/etc/ssl/certs/ca-certificates.crt"
# What no image needs: package caches and lists, documentation, man pages, locales other than C.
rm -rf "$rootfs"/var/cache/apt/archives/*.deb "$rootfs"/var/lib/apt/lists/* \
    "$rootfs"/usr/share/doc/* "$rootfs"/usr/share/man/* "$rootfs"/usr/share/info/* "$rootfs"/usr/share/locale/*
# The same defaults python:3.11-slim sets, plus pip's CA bundle (its vendored certifi would not trust it).
tar --numeric-owner -C "$rootfs" -c . | docker import \
    --change 'ENV LANG=C.UTF-8' \
    --change 'ENV PIP_CERT=/etc/ssl/certs/ca-certificates.crt' \
    --change 'CMD ["python3"]' \
    - "$name" >/dev/null
echo "base image $name: built in $(($(date +%s) - started)) s"
