#!/usr/bin/env bash
# Installs and starts the container engines the engine tests (tests/engines) run against, on a
# Debian 12 machine without systemd, as root: Docker (Debian's docker.io) and Podman, plus a
# local busybox image (no registry needed). Safe to run again; quick when everything is up.
#
#   ./scripts/engines.sh up     install what is missing, start dockerd, import the image
#   ./scripts/engines.sh down   remove the test containers, stop dockerd, undo what up made
#
# The host firewall is never touched: dockerd runs with --iptables=false and friends, and
# podman bridge containers are created inside a network namespace of their own ($FWNS, a file
# outside /run/netns), where netavark may write its rules. Run podman commands that create,
# start, stop or remove bridge containers as: nsenter --net="$FWNS" podman ...
#
# Environment: PYNETNS_ENGINES_STATE (default /run/pynetns-engines), PYNETNS_TEST_IMAGE
# (default pynetns-busybox:latest), PYNETNS_TEST_LABEL (default pynetns-test).
set -euo pipefail

STATE=${PYNETNS_ENGINES_STATE:-/run/pynetns-engines}
IMAGE=${PYNETNS_TEST_IMAGE:-pynetns-busybox:latest}
LABEL=${PYNETNS_TEST_LABEL:-pynetns-test}
FWNS=$STATE/podman-fw.netns
# Debian's client matches its 20.10 daemon; a newer one in /usr/local/bin would work as well.
DOCKER=/usr/bin/docker

log() { echo "engines: $*" >&2; }

install_packages() {
    local want=(docker.io podman netavark aardvark-dns catatonit busybox-static iproute2
                util-linux procps) missing=() p made_policy=0
    for p in "${want[@]}"; do
        dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' ||
            missing+=("$p")
    done
    [ ${#missing[@]} -eq 0 ] && return 0
    log "installing ${missing[*]}"
    # Keep dpkg from starting dockerd with its default configuration (iptables rules).
    if [ ! -e /usr/sbin/policy-rc.d ]; then
        printf '#!/bin/sh\nexit 101\n' >/usr/sbin/policy-rc.d
        chmod 755 /usr/sbin/policy-rc.d
        made_policy=1
    fi
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    # --no-install-recommends: no apparmor, nftables, criu, slirp4netns...
    apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
    [ $made_policy = 1 ] && rm -f /usr/sbin/policy-rc.d
    return 0
}

docker_up() {
    $DOCKER version >/dev/null 2>&1 && return 0
    # dockerd refuses to start while its pidfile names a live process, even a foreign one.
    if [ -f /run/docker.pid ] &&
       [ "$(cat "/proc/$(cat /run/docker.pid)/comm" 2>/dev/null)" != dockerd ]; then
        rm -f /run/docker.pid
    fi
    local driver pid i
    for driver in overlay2 vfs; do
        setsid dockerd --iptables=false --ip6tables=false --ip-masq=false --ip-forward=false \
            --storage-driver="$driver" >"$STATE/dockerd.log" 2>&1 </dev/null &
        pid=$!
        for i in $(seq 300); do
            $DOCKER version >/dev/null 2>&1 && { log "dockerd started ($driver)"; return 0; }
            kill -0 "$pid" 2>/dev/null || break
            sleep 0.1
        done
        log "dockerd did not start with storage driver $driver:"
        tail -n 5 "$STATE/dockerd.log" >&2 || true
        kill "$pid" 2>/dev/null || true
        wait "$pid" 2>/dev/null || true
    done
    return 1
}

rootfs() {  # a busybox tree: sh, sleep, nc, httpd, ps
    local r=$STATE/rootfs a
    [ -x "$r/bin/busybox" ] && return 0
    rm -rf "$r.tmp"
    mkdir -p "$r.tmp"/{bin,etc,proc,sys,dev,tmp,root,run}
    cp /bin/busybox "$r.tmp/bin/busybox"
    for a in $("$r.tmp/bin/busybox" --list); do
        [ "$a" = busybox ] || ln -s busybox "$r.tmp/bin/$a"
    done
    echo 'root:x:0:0:root:/root:/bin/sh' >"$r.tmp/etc/passwd"
    echo 'root:x:0:' >"$r.tmp/etc/group"
    mv "$r.tmp" "$r"
}

image_import() {  # image_import CLI... : import the rootfs as $IMAGE unless it is there
    "$@" image inspect "$IMAGE" >/dev/null 2>&1 && return 0
    tar -C "$STATE/rootfs" --numeric-owner -c . |
        "$@" import -c 'CMD ["/bin/sh"]' -c 'ENV PATH=/bin' - "$IMAGE" >/dev/null 2>"$STATE/import.log" ||
        { cat "$STATE/import.log" >&2; return 1; }
}

podman_ulimits() {
    # Without CAP_SYS_RESOURCE the OCI runtime cannot raise rlimits above our hard limits, and
    # podman's defaults are higher: pin them, or no container starts ("error setting rlimit").
    local f=/etc/containers/containers.conf.d/50-pynetns-ulimits.conf nofile nproc pidmax
    [ -f "$f" ] && return 0
    nofile=$(ulimit -Hn); nproc=$(ulimit -Hu); pidmax=$(cat /proc/sys/kernel/pid_max)
    [ "$nofile" = unlimited ] || [ "$nofile" -gt 1048576 ] && nofile=1048576
    [ "$nproc" = unlimited ] || [ "$nproc" -gt 32768 ] && nproc=32768
    [ "$nproc" -gt "$pidmax" ] && nproc=$pidmax
    mkdir -p "${f%/*}"
    printf '[containers]\ndefault_ulimits = ["nofile=%s:%s", "nproc=%s:%s"]\n' \
        "$nofile" "$nofile" "$nproc" "$nproc" >"$f"
}

podman_fwns() {
    mountpoint -q "$FWNS" 2>/dev/null && return 0
    touch "$FWNS"
    unshare --net="$FWNS" true
    nsenter --net="$FWNS" ip link set lo up
}

up() {
    mkdir -p "$STATE"
    install_packages
    docker_up
    rootfs
    image_import $DOCKER
    podman_ulimits
    podman_fwns
    image_import podman
}

down() {
    local ids pid i
    if command -v podman >/dev/null; then
        ids=$(podman ps -aq --filter "label=$LABEL")
        if [ -n "$ids" ]; then
            # through the firewall namespace, so netavark tears down where it set up
            if mountpoint -q "$FWNS" 2>/dev/null; then
                nsenter --net="$FWNS" podman rm -f -t 0 $ids >/dev/null
            else
                podman rm -f -t 0 $ids >/dev/null
            fi
        fi
    fi
    if mountpoint -q "$FWNS" 2>/dev/null; then umount "$FWNS"; fi
    rm -f "$FWNS"
    if $DOCKER version >/dev/null 2>&1; then
        ids=$($DOCKER ps -aq --filter "label=$LABEL")
        [ -z "$ids" ] || $DOCKER rm -f $ids >/dev/null
    fi
    if [ -f /run/docker.pid ] && [ "$(cat "/proc/$(cat /run/docker.pid)/comm" 2>/dev/null)" = dockerd ]; then
        pid=$(cat /run/docker.pid)
        kill "$pid"
        for i in $(seq 150); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    fi
    # dockerd leaves these behind
    if mountpoint -q /run/docker/netns/default 2>/dev/null; then umount /run/docker/netns/default; fi
    if ip link show docker0 >/dev/null 2>&1; then ip link delete docker0; fi
    return 0
}

case ${1:-} in
    up) up ;;
    down) down ;;
    *) echo "usage: $0 up|down" >&2; exit 2 ;;
esac
