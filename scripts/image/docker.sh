#!/usr/bin/env bash
# The container engine for `make image` / `make image-test`.
#
#   scripts/image/docker.sh up     install docker.io and debootstrap if missing (root, apt-get), start dockerd if
#                                  no daemon answers; remembers a daemon it started in .cache/image/dockerd.pid
#   scripts/image/docker.sh down   stop the daemon that `up` started (and only that one)
set -euo pipefail
cd "$(dirname "$0")/../.."
state=.cache/image
pidfile=$state/dockerd.pid

install_missing() {
    local missing=()
    command -v dockerd >/dev/null || missing+=(docker.io)
    command -v debootstrap >/dev/null || missing+=(debootstrap)
    ((${#missing[@]})) || return 0
    if [[ $(id -u) != 0 ]]; then
        echo "missing ${missing[*]}: install them (apt-get install ${missing[*]}) or run as root" >&2
        exit 1
    fi
    echo "installing ${missing[*]}"
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
}

up() {
    install_missing
    if docker info >/dev/null 2>&1; then
        return 0
    fi
    if [[ $(id -u) != 0 ]]; then
        echo "no Docker daemon answers and only root can start one here: sudo dockerd" >&2
        exit 1
    fi
    mkdir -p "$state"
    echo "starting dockerd (log: $state/dockerd.log)"
    setsid dockerd >"$state/dockerd.log" 2>&1 </dev/null &
    echo $! >"$pidfile"
    for _ in $(seq 120); do
        docker info >/dev/null 2>&1 && return 0
        kill -0 "$(cat "$pidfile")" 2>/dev/null || break
        sleep 0.5
    done
    echo "dockerd did not come up:" >&2
    tail -n 20 "$state/dockerd.log" >&2
    exit 1
}

down() {
    [[ -f $pidfile ]] || return 0
    local pid
    pid=$(cat "$pidfile")
    rm -f "$pidfile"
    kill -0 "$pid" 2>/dev/null || return 0
    echo "stopping the dockerd this harness started (pid $pid)"
    kill -TERM "$pid"
    for _ in $(seq 60); do
        kill -0 "$pid" 2>/dev/null || return 0
        sleep 0.5
    done
    kill -KILL "$pid" 2>/dev/null || true
}

case ${1:-} in
    up) up ;;
    down) down ;;
    *) echo "usage: $0 up|down" >&2; exit 2 ;;
esac
