#!/usr/bin/env bash
# A real rootless Podman for the rootless tests (tests/engines/test_rootless.py), on a Debian 12
# machine without systemd, as root: a test user with subuid/subgid ranges, its runtime
# directory made by hand, its containers.conf, its pause process and the test image in its
# store. `down` removes all of it, the user included. Run scripts/engines.sh up first (Podman
# itself, and the busybox tree the image is made from).
#
#   ./scripts/rootless.sh up USER     make USER and its Podman (USER must not exist yet)
#   ./scripts/rootless.sh pause USER  start USER's pause process again (after a test killed it)
#   ./scripts/rootless.sh down USER   end everything USER runs, remove USER and its files
#   ./scripts/rootless.sh env USER    print UID=, XDG_RUNTIME_DIR= for the tests
#
# /dev/net/tun may be 0600 (no udev): slirp4netns, run as the user, then cannot open it. The
# device is not changed: the first podman, which makes the pause process whose user and mount
# namespaces every later podman of the user joins, starts in a private mount namespace with a
# tmpfs on /dev/net holding a tun node of mode 0666.
#
# Environment: PYNETNS_ENGINES_STATE, PYNETNS_TEST_IMAGE (as scripts/engines.sh).
set -euo pipefail

STATE=${PYNETNS_ENGINES_STATE:-/run/pynetns-engines}
IMAGE=${PYNETNS_TEST_IMAGE:-pynetns-busybox:latest}

log() { echo "rootless: $*" >&2; }
die() { log "$*"; exit 1; }

[ $# -eq 2 ] || die "usage: $0 up|pause|down|env USER"
verb=$1 user=$2
case $user in
    pynetns-*) ;;  # down removes the user: never one this script did not make
    *) die "USER must start with pynetns- (it is made, and removed, by this script)" ;;
esac

uid_of() { id -u "$user" 2>/dev/null; }

as_user() {  # as_user CMD...: CMD as the user, with the environment a login would give
    local uid
    uid=$(uid_of)
    # setpriv, not su/runuser: no PAM session, which a minimal root may not have set up
    (cd / && setpriv --reuid="$uid" --regid="$(id -g "$user")" --init-groups --reset-env \
        env XDG_RUNTIME_DIR="/run/user/$uid" "$@")
}

ulimits_conf() {  # podman's default rlimits above our hard limits stop every container
    local home nofile nproc pidmax
    home=$(getent passwd "$user" | cut -d: -f6)
    nofile=$(ulimit -Hn); nproc=$(ulimit -Hu); pidmax=$(cat /proc/sys/kernel/pid_max)
    [ "$nofile" = unlimited ] || [ "$nofile" -gt 1048576 ] && nofile=1048576
    [ "$nproc" = unlimited ] || [ "$nproc" -gt 32768 ] && nproc=32768
    [ "$nproc" -gt "$pidmax" ] && nproc=$pidmax
    as_user mkdir -p "$home/.config/containers"
    printf '[containers]\ndefault_ulimits = ["nofile=%s:%s", "nproc=%s:%s"]\n' \
        "$nofile" "$nofile" "$nproc" "$nproc" | as_user tee "$home/.config/containers/containers.conf" >/dev/null
}

pause() {  # the user's pause process, made where a usable /dev/net/tun is
    local uid pid
    uid=$(uid_of)
    pid=$(cat "/run/user/$uid/libpod/tmp/pause.pid" 2>/dev/null) || pid=
    if [ -n "$pid" ] && [ "$(stat -c %u "/proc/$pid" 2>/dev/null)" = "$uid" ]; then return 0; fi
    # slave, then shared: podman wants / shared, and nothing here reaches the host's mounts
    unshare -m --propagation slave bash -c "
        set -e
        mount --make-rshared /
        mkdir -p /dev/net
        mount -t tmpfs -o mode=0755,size=16k tmpfs /dev/net
        mknod -m 0666 /dev/net/tun c 10 200
        cd / && exec setpriv --reuid=$uid --regid=$(id -g "$user") --init-groups --reset-env \
            env XDG_RUNTIME_DIR=/run/user/$uid podman info --format '{{.Host.Security.Rootless}}'" \
        >/dev/null
    [ -s "/run/user/$uid/libpod/tmp/pause.pid" ] || die "no pause process for $user"
}

up() {
    command -v podman >/dev/null || die "no podman: run scripts/engines.sh up first"
    [ -x "$STATE/rootfs/bin/busybox" ] || die "no $STATE/rootfs: run scripts/engines.sh up first"
    if uid_of >/dev/null; then die "user $user exists already"; fi
    trap 'log "up failed: removing $user"; down' EXIT
    useradd -m -s /bin/sh "$user"  # also gives it ranges in /etc/subuid and /etc/subgid
    grep -q "^$user:" /etc/subuid || die "useradd gave $user no /etc/subuid range"
    local uid
    uid=$(uid_of)
    install -d -m 0700 -o "$uid" -g "$(id -g "$user")" "/run/user/$uid"
    ulimits_conf
    pause
    tar -C "$STATE/rootfs" --numeric-owner -c . |
        as_user podman import -c 'CMD ["/bin/sh"]' -c 'ENV PATH=/bin' - "$IMAGE" >/dev/null 2>"$STATE/rootless-import.log" ||
        { cat "$STATE/rootless-import.log" >&2; return 1; }
    trap - EXIT
}

down() {
    local uid pid i left
    uid=$(uid_of) || return 0
    # Everything the user runs (containers, conmon, slirp4netns, the pause process): this
    # script made the user, so each of its processes is one this script started.
    for i in $(seq 50); do
        left=$(ps -U "$uid" -o pid= || true)
        [ -n "$left" ] || break
        for pid in $left; do kill -9 "$pid" 2>/dev/null || true; done
        sleep 0.1
    done
    # Storage mounts of the user's podman live in its own mount namespaces: gone with them.
    userdel -r -f "$user" 2>/dev/null || userdel -f "$user"
    rm -rf "/run/user/$uid"
    [ ! -e "/home/$user" ] || rm -rf "/home/$user"
}

case $verb in
    up) up ;;
    pause) pause ;;
    down) down ;;
    env) uid=$(uid_of) || die "no user $user"; echo "UID=$uid"; echo "XDG_RUNTIME_DIR=/run/user/$uid" ;;
    *) die "usage: $0 up|pause|down|env USER" ;;
esac
