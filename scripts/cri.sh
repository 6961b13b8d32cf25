#!/usr/bin/env bash
# scripts/cri.sh - the test suite's own containerd with the Kubernetes CRI plugin, on a Debian 12
# machine that has no systemd, no kubelet, no crictl and no registry, for the `pod:NAMESPACE/NAME`
# tests (tests/engines/test_pods.py; scripts/test brings it up). It runs inside a network namespace
# of its own, so pod networking never touches the host. Run it as root.
#
#   ./scripts/cri.sh up          install (apt), build the pause image, start containerd + CRI, wait for ready
#   ./scripts/cri.sh selftest    RunPodSandbox through CRI, check the pod's netns file, remove the pod
#   ./scripts/cri.sh down        remove every pod sandbox, stop containerd (by pidfile), clean up what up made
#   ./scripts/cri.sh env         print CONTAINER_RUNTIME_ENDPOINT=unix://... and a few more KEY=VALUE lines
#   ./scripts/cri.sh pod-run NS NAME [OPTS]   make a pod sandbox (OPTS, comma-separated: node =
#                                        hostNetwork, hostpid = hostPID, sharedpid =
#                                        shareProcessNamespace); prints
#                                        "ID NETNS-PATH PID IP" (NETNS-PATH is "-" for node pods)
#   ./scripts/cri.sh pod-rm ID...             StopPodSandbox + RemovePodSandbox
#   ./scripts/cri.sh pods                     one line a sandbox: ID NS/NAME STATE NETNS-PATH PID IP
# `up` twice is safe; so is `down` twice. `down` keeps the apt packages and $CRI_CACHE (the pause
# image tarball); `PURGE=1 ./scripts/cri.sh down` removes $CRI_CACHE too.
#
# Environment: CRI_RUN (default /run/pynetns-cri: socket, state, node netns, pidfile, config, log),
#              CRI_ROOT (default /var/lib/pynetns-cri: containerd's root, images and snapshots),
#              CRI_CACHE (default /var/cache/pynetns-cri), POD_CIDR (default 10.213.100.0/24, only
#              ever inside the node netns), SNAPSHOTTER (default: overlayfs, native where CRI_ROOT is
#              on overlayfs).
#
# What exists after `up`:
#   - containerd (Debian's 1.6) with its own --root/--state, CRI on $CRI_RUN/containerd.sock, PID in
#     $CRI_RUN/containerd.pid, log in $CRI_RUN/containerd.log, started as
#     `nsenter --net=$CRI_RUN/node.netns setsid containerd --config $CRI_RUN/containerd.toml`.
#   - the node netns $CRI_RUN/node.netns (a file outside /run/netns, so `ip netns list` never shows
#     it): lo, and once a pod exists the bridge pncri0 (POD_CIDR's .1) and one veth a pod.
#   - the image localhost/pynetns-cri-pause:1 in containerd's k8s.io namespace.
#   A pod's netns is made by containerd itself, as on a real node: /var/run/netns/cni-<uuid>, a bind
#   mount of nsfs in the host mount namespace, removed by StopPodSandbox.
#
# Pitfalls hit while writing this (each one is handled below):
#   - No registry: the pause image is built here. /usr/bin/catatonit (Debian's catatonit, static) is
#     copied to /pause in one layer tar, with an image config (Entrypoint ["/pause","-P"]) and a
#     docker-archive manifest.json written by hand; `ctr -n k8s.io images import` takes that tarball
#     and unpacks it for the snapshotter. No Docker is needed. The CRI plugin sees the image through
#     containerd's events, so it can be imported while containerd runs.
#   - Docker's own containerd (/run/docker/containerd/containerd.sock) has the CRI plugin disabled
#     (`UNIMPLEMENTED: unknown service runtime.v1.RuntimeService`); it is never used here.
#   - A CNI config with only `loopback` makes RunPodSandbox fail in containerd 1.6 ("failed to find
#     network info for sandbox"): it wants an IP on eth0. So: bridge + host-local, in the node netns.
#   - The bridge plugin with isGateway sets net.ipv4.ip_forward=1 and adds the bridge and routes:
#     all of it lands in the node netns (sysctls under /proc/sys/net are per netns). ipMasq is false,
#     so no iptables rule is written anywhere. The host's links, routes and iptables are unchanged.
#   - containerd must start with the CNI config already in place: its conf syncer did not reload a
#     conf that was renamed back into the directory later ("cni plugin not initialized" on
#     StopPodSandbox). `up` writes the config first, then waits for the CRI Status condition
#     NetworkReady before it returns.
#   - libcni writes its result cache to /var/lib/cni/results/<network>-<sandbox id>-eth0; containerd
#     1.6 has no setting for it. `down` removes the files of network "pynetns-cri", and removes
#     /var/lib/cni(/results) only when `up` found them absent. host-local IPAM data goes to
#     $CRI_RUN/ipam (dataDir), not /var/lib/cni/networks.
#   - The runc shim keeps runc state in /run/containerd/runc unless the runtime option Root is set
#     (set here to $CRI_RUN/runc). Shim sockets always go to /run/containerd/s/<hash>, a directory
#     Docker's containerd shares; `down` only removes it when it is empty and `up` found it absent.
#   - Pod cgroups go to /sys/fs/cgroup/<controller>/k8s.io/<id> (cgroupfs; no cgroup_parent given).
#     runc removes <id>; `down` removes the empty k8s.io directories that `up` found absent.
#   - Killing by pidfile: bash's `( ... ) &` + `exec nsenter ... setsid containerd` keeps one PID
#     (nsenter and setsid exec in place: a background job is no process-group leader, so setsid does
#     not fork). `up` checks /proc/PID/exe and /proc/PID/cmdline before it trusts a pidfile.
#   - A daemon started from `out=$(cri.sh up)` holds the caller's pipe open unless every fd is
#     closed: containerd gets /dev/null on stdin, the log file on stdout/stderr, and no other fd.
#   - Shims outlive containerd. `down` first removes every sandbox through CRI (that runs CNI DEL,
#     frees the IP, unmounts the pod netns), then stops containerd. If containerd is gone already, it
#     kills the shims whose argv has `-address $CRI_RUN/containerd.sock` and their children (by PID),
#     and unmounts the pod netns files that the CNI result cache of network "pynetns-cri" names.
#   - Pod netns files are under the host's /run/netns. A test that mounts a tmpfs on /run/netns in a
#     private mount namespace hides them: create the pod first, then (in the private namespace, after
#     the tmpfs) bind the pod's netns back (`mount --bind /proc/PID/ns/net /run/netns/cni-…`, or a
#     bind of the file made before the tmpfs).
#   - No crictl: the CRI calls go through pynetns's own gRPC client (pynetns/_grpc.py, stdlib only)
#     from this checkout, run by Debian's python3: no PyPI, no venv.
#   - dpkg may start a freshly installed daemon with its default configuration: a temporary
#     /usr/sbin/policy-rc.d (exit 101) stops that during the install, as in ci-engines.sh.
#   - A hostNetwork pod (NamespaceOption.network NODE) must have an empty hostname: runc refuses
#     "unable to set hostname without a private UTS namespace" (kubelet sends none for them either).
#   - overlayfs on overlayfs fails (a root filesystem that is itself overlay, as in a container):
#     SNAPSHOTTER falls back to native there.
set -euo pipefail

ACTION=${1:-up}
[ $# -gt 0 ] && shift
CRI_RUN=${CRI_RUN:-/run/pynetns-cri}
CRI_ROOT=${CRI_ROOT:-/var/lib/pynetns-cri}
CRI_CACHE=${CRI_CACHE:-/var/cache/pynetns-cri}
POD_CIDR=${POD_CIDR:-10.213.100.0/24}
SOCK=$CRI_RUN/containerd.sock
NODE_NS=$CRI_RUN/node.netns
PIDFILE=$CRI_RUN/containerd.pid
CONF=$CRI_RUN/containerd.toml
LOG=$CRI_RUN/containerd.log
MARKS=$CRI_RUN/created          # what up found absent, so down removes only that
IMAGE=localhost/pynetns-cri-pause:1
NET_NAME=pynetns-cri
BRIDGE=pncri0
SRC=$(cd "$(dirname "$0")/.." && pwd)  # this checkout: the CRI client is pynetns's own
PY=/usr/bin/python3
export PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin:$PATH
export CONTAINER_RUNTIME_ENDPOINT=unix://$SOCK

log() { printf '[%s] %s\n' "$(date +%T)" "$*" >&2; }
die() { log "ERROR: $*"; exit 1; }
timed() {  # timed LABEL CMD... : run CMD and log how long it took
    local label=$1 t0 rc; shift; t0=$(date +%s.%N)
    set +e; ( set -e; "$@" ); rc=$?; set -e
    log "$(awk -v a="$t0" -v b="$(date +%s.%N)" 'BEGIN{printf "%6.2fs", b-a}') $label (rc=$rc)"
    return $rc
}
ctrc() { ctr --address "$SOCK" -n k8s.io "$@"; }

# --- the CRI client: pynetns's own (pynetns/_grpc.py), from this checkout, on Debian's python3 --
cri() {
    PYTHONPATH=$SRC "$PY" - "$@" <<'PY'
import json, os, sys, time, uuid
os.environ["PYNETNS_ENGINE_TIMEOUT"] = "120"  # a call's deadline: RunPodSandbox may be slow
from pynetns import cri as api
from pynetns._grpc import field, string_map
from pynetns.errors import ContainerError

# CRI v1 (kubernetes/cri-api api.proto): the few fields used here, by number
READY, NOTREADY = 0, 1          # PodSandboxState
POD, CONTAINER, NODE = 0, 1, 2  # NamespaceMode
STATES = {READY: "SANDBOX_READY", NOTREADY: "SANDBOX_NOTREADY"}
MODES = {POD: "POD", CONTAINER: "CONTAINER", NODE: "NODE"}
runtime = api.Runtime()

def call(method, request=b""):
    return runtime.call(method, request)

def netns_pid(sid):
    """(status message, netns path or "-", pid) of sandbox sid."""
    answer = call("PodSandboxStatus", field(1, sid) + field(2, True))
    info = json.loads(answer.string_map(2).get("info") or "{}")
    path = next((n.get("path") for n in (info.get("runtimeSpec") or {}).get("linux", {})
                 .get("namespaces", []) if n.get("type") == "network"), None)
    return answer.message(1), path or "-", info.get("pid") or 0

def remove(sid):
    call("StopPodSandbox", field(1, sid))
    call("RemovePodSandbox", field(1, sid))

def listing(flt=b""):
    return call("ListPodSandbox", field(1, flt) if flt else b"").messages(1)

verb, args = sys.argv[1], sys.argv[2:]
try:
    if verb == "ready":                       # ready SECONDS: Version answers and NetworkReady
        deadline, last = time.time() + float(args[0]), "no answer"
        while time.time() < deadline:
            try:
                runtime.seconds = 2
                v = call("Version", field(1, "v1"))
                conds = {c.str(1): c for c in call("Status").message(1).messages(1)}
                if all(conds.get(t) and conds[t].int(2) for t in ("RuntimeReady", "NetworkReady")):
                    print(v.str(2), v.str(3), "CRI", v.str(4))
                    break
                last = "; ".join(f"{t}={bool(c.int(2))} {c.str(4)}" for t, c in conds.items())
            except ContainerError as e:
                last = str(e)
            runtime.close()
            time.sleep(0.2)
        else:
            sys.exit(f"CRI not ready: {last}")
    elif verb == "run":                       # run NS NAME [node,hostpid,sharedpid]
        ns, name = args[0], args[1]
        opts = set(args[2].split(",")) if args[2:] else set()
        mode = NODE if "node" in opts else POD
        pid_mode = NODE if "hostpid" in opts else POD if "sharedpid" in opts else CONTAINER
        uid = str(uuid.uuid4())
        # the labels kubelet puts on every sandbox: what a pod:NS/NAME lookup selects on
        labels = {"io.kubernetes.pod.name": name, "io.kubernetes.pod.namespace": ns,
                  "io.kubernetes.pod.uid": uid}
        options = b"".join(field(n, v) for n, v in ((1, mode), (2, pid_mode)) if v)
        config = (field(1, field(1, name) + field(2, uid) + field(3, ns)) +
                  # no hostname for hostNetwork: runc refuses to set one in the host's UTS
                  (field(2, name[:63]) if mode == POD else b"") +
                  string_map(6, labels) + field(8, field(2, field(1, options))))
        sid = call("RunPodSandbox", field(1, config)).str(1)
        st, path, pid = netns_pid(sid)
        # The answer may come while the sandbox's process is still runc's init, before it
        # runs /pause: wait for the exec, so tests see the pod as a node would a moment later.
        for _ in range(500):
            try:
                with open(f"/proc/{pid}/cmdline", "rb") as f:
                    if not f.read().startswith(b"runc"):
                        break
            except OSError:
                break
            time.sleep(0.01)
        print(sid, path, pid, st.message(5).str(1) or "-")
    elif verb == "find":                      # find NS NAME: the READY sandbox ids with those labels
        flt = field(2, b"") + string_map(3, {"io.kubernetes.pod.namespace": args[0],
                                             "io.kubernetes.pod.name": args[1]})
        for p in listing(flt):
            print(p.str(1))
    elif verb == "status":                    # status ID: netns path, pid, network mode
        st, path, pid = netns_pid(args[0])
        mode = st.message(6).message(1).message(2).int(1)
        print(path, pid, MODES.get(mode, mode), st.message(5).str(1) or "-")
    elif verb == "ls":
        for p in listing():
            st, path, pid = netns_pid(p.str(1))
            meta = p.message(2)
            print(p.str(1), f"{meta.str(3)}/{meta.str(1)}", STATES.get(p.int(3), p.int(3)),
                  path, pid, st.message(5).str(1) or "-")
    elif verb == "rm":
        for sid in args:
            remove(sid)
    elif verb == "rm-all":                    # prints the netns paths the removed pods had
        for p in listing():
            try:
                print(netns_pid(p.str(1))[1])
            except ContainerError:
                pass
            remove(p.str(1))
    else:
        sys.exit(f"unknown cri verb {verb}")
except (ContainerError, ValueError) as e:
    sys.exit(f"CRI {verb}: {e}")
PY
}

# --- up ------------------------------------------------------------------------------------------
install_pkgs() {
    local want=(containerd runc containernetworking-plugins catatonit iproute2 util-linux python3)
    local missing=() p made_policy=0
    for p in "${want[@]}"; do
        dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
    done
    if [ ${#missing[@]} -eq 0 ]; then log "packages already installed"; return 0; fi
    if [ ! -e /usr/sbin/policy-rc.d ]; then
        printf '#!/bin/sh\nexit 101\n' > /usr/sbin/policy-rc.d; chmod 755 /usr/sbin/policy-rc.d; made_policy=1
    fi
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
    [ "$made_policy" = 1 ] && rm -f /usr/sbin/policy-rc.d
    return 0
}

go_arch() {
    case "$(dpkg --print-architecture)" in
        amd64) echo amd64 ;; arm64) echo arm64 ;; armhf) echo arm ;; i386) echo 386 ;;
        ppc64el) echo ppc64le ;; *) dpkg --print-architecture ;;
    esac
}

build_pause() {  # a docker-archive tarball of one layer: /pause = catatonit
    local tar=$CRI_CACHE/pause.tar d=$CRI_CACHE/pause.build lsha csha
    [ -s "$tar" ] && return 0
    rm -rf "$d"; mkdir -p "$d/rootfs" "$d/img"
    cp /usr/bin/catatonit "$d/rootfs/pause"
    tar --sort=name --mtime=@0 --numeric-owner --owner=0 --group=0 -C "$d/rootfs" -cf "$d/layer.tar" pause
    lsha=$(sha256sum "$d/layer.tar" | cut -d' ' -f1)
    mkdir "$d/img/$lsha"; mv "$d/layer.tar" "$d/img/$lsha/layer.tar"
    printf '{"architecture":"%s","os":"linux","config":{"Entrypoint":["/pause","-P"],"WorkingDir":"/"},"rootfs":{"type":"layers","diff_ids":["sha256:%s"]},"history":[{"created_by":"cri.sh: /usr/bin/catatonit as /pause"}]}' \
        "$(go_arch)" "$lsha" > "$d/config.json"
    csha=$(sha256sum "$d/config.json" | cut -d' ' -f1); mv "$d/config.json" "$d/img/$csha.json"
    printf '[{"Config":"%s.json","RepoTags":["%s"],"Layers":["%s/layer.tar"]}]' "$csha" "$IMAGE" "$lsha" > "$d/img/manifest.json"
    tar --sort=name --mtime=@0 --numeric-owner --owner=0 --group=0 -C "$d/img" -cf "$tar.tmp" .
    mv "$tar.tmp" "$tar"; rm -rf "$d"
}

mark_absent() {  # mark_absent PATH: remember that PATH did not exist before the first up
    [ -e "$1" ] || grep -qxF "$1" "$MARKS" 2>/dev/null || echo "$1" >> "$MARKS"
}

write_config() {
    local snap=${SNAPSHOTTER:-}
    if [ -z "$snap" ]; then
        mkdir -p "$CRI_ROOT"
        if [ "$(stat -f -c %T "$CRI_ROOT")" = overlayfs ]; then snap=native; else snap=overlayfs; fi
    fi
    log "snapshotter $snap, pod range $POD_CIDR (node netns only)"
    mkdir -p "$CRI_RUN/net.d" "$CRI_RUN/ipam" "$CRI_ROOT"
    cat > "$CRI_RUN/net.d/10-$NET_NAME.conflist" <<EOF
{
  "cniVersion": "0.4.0",
  "name": "$NET_NAME",
  "plugins": [
    {"type": "bridge", "bridge": "$BRIDGE", "isGateway": true, "ipMasq": false, "hairpinMode": false,
     "ipam": {"type": "host-local", "dataDir": "$CRI_RUN/ipam",
              "ranges": [[{"subnet": "$POD_CIDR"}]], "routes": [{"dst": "0.0.0.0/0"}]}}
  ]
}
EOF
    cat > "$CONF" <<EOF
# written by cri.sh: a containerd of its own beside any other (root, state, socket, CNI config)
version = 2
root = "$CRI_ROOT/root"
state = "$CRI_RUN/state"
disabled_plugins = ["io.containerd.snapshotter.v1.aufs", "io.containerd.snapshotter.v1.btrfs",
                    "io.containerd.snapshotter.v1.devmapper", "io.containerd.snapshotter.v1.zfs",
                    "io.containerd.tracing.processor.v1.otlp"]
[grpc]
  address = "$SOCK"
[ttrpc]
  address = "$SOCK.ttrpc"
[debug]
  address = ""
  level = "info"
[metrics]
  address = ""
[plugins."io.containerd.internal.v1.opt"]
  path = "$CRI_ROOT/opt"
[plugins."io.containerd.grpc.v1.cri"]
  sandbox_image = "$IMAGE"
  stream_server_address = "127.0.0.1"
  stream_server_port = "0"
  enable_selinux = false
  disable_apparmor = true
  restrict_oom_score_adj = true
  netns_mounts_under_state_dir = false
  [plugins."io.containerd.grpc.v1.cri".containerd]
    snapshotter = "$snap"
    default_runtime_name = "runc"
    [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc]
      runtime_type = "io.containerd.runc.v2"
      [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc.options]
        SystemdCgroup = false
        Root = "$CRI_RUN/runc"
  [plugins."io.containerd.grpc.v1.cri".cni]
    bin_dir = "/usr/lib/cni"
    conf_dir = "$CRI_RUN/net.d"
    max_conf_num = 1
EOF
}

node_netns() {  # a netns only for containerd and the CNI bridge, pinned on a file outside /run/netns
    if mountpoint -q "$NODE_NS" 2>/dev/null; then return 0; fi
    touch "$NODE_NS"
    unshare --net="$NODE_NS" true
    nsenter --net="$NODE_NS" ip link set lo up
}

shared_run_netns() {  # /run/netns a shared mount point before the first pod, as `ip netns add` makes it
    # Made one later by ip, its recursive self bind copies each pod's mount, and containerd's clean-up
    # unmounts only the visible copy: the hidden one keeps the netns alive and the file (EBUSY).
    mkdir -p /run/netns
    mountpoint -q /run/netns || mount --rbind /run/netns /run/netns
    mount --make-rshared /run/netns
}

our_pid() {  # prints the PID of our running containerd, or fails
    local pid
    pid=$(cat "$PIDFILE" 2>/dev/null) || return 1
    [ -n "$pid" ] && [ "$(readlink "/proc/$pid/exe" 2>/dev/null)" = "$(readlink -f "$(command -v containerd)")" ] &&
        tr '\0' ' ' < "/proc/$pid/cmdline" 2>/dev/null | grep -F -- "--config $CONF" >/dev/null || return 1
    echo "$pid"
}

start_containerd() {
    local pid
    if pid=$(our_pid); then log "containerd already running: pid $pid"; return 0; fi
    rm -f "$PIDFILE" "$SOCK" "$SOCK.ttrpc"
    (
        for fd in /proc/self/fd/*; do fd=${fd##*/}; [ "$fd" -gt 2 ] && eval "exec $fd>&-"; done 2>/dev/null
        exec </dev/null >>"$LOG" 2>&1 nsenter --net="$NODE_NS" -- setsid containerd --config "$CONF"
    ) &
    pid=$!
    echo "$pid" > "$PIDFILE"
    sleep 0.2
    our_pid >/dev/null || { tail -n 20 "$LOG" >&2; die "containerd (pid $pid) did not start"; }
    log "containerd started: pid $pid, socket $SOCK, log $LOG"
}

import_pause() {
    # grep without -q: under pipefail, an early exit of grep -q can fail the pipe with SIGPIPE
    if ctrc images ls -q 2>/dev/null | grep -xF "$IMAGE" >/dev/null; then log "image $IMAGE present"; return 0; fi
    ctrc images import "$CRI_CACHE/pause.tar" >/dev/null
    ctrc images ls -q | grep -xF "$IMAGE" >/dev/null || die "import did not make $IMAGE"
}

up() {
    exec 9<"$0"; flock 9                    # one up/down at a time
    [ "$(id -u)" = 0 ] || die "run as root"
    timed "apt install" install_pkgs
    mkdir -p "$CRI_RUN" "$CRI_CACHE"
    mark_absent /var/lib/cni; mark_absent /var/lib/cni/results; mark_absent /run/containerd
    mark_absent /run/containerd/s
    local d   # pod cgroups: <hierarchy>/k8s.io/<id>, on cgroup v2 and on every v1 hierarchy
    [ -f /sys/fs/cgroup/cgroup.controllers ] && mark_absent /sys/fs/cgroup/k8s.io
    for d in /sys/fs/cgroup/*/; do [ -f "$d/cgroup.procs" ] && mark_absent "${d}k8s.io"; done
    timed "pause image tarball" build_pause
    write_config
    timed "node netns" node_netns
    shared_run_netns
    timed "containerd start" start_containerd
    timed "CRI ready" cri ready 30 || { tail -n 20 "$LOG" >&2; die "CRI did not get ready (log $LOG)"; }
    timed "import $IMAGE" import_pause
    log "up: CONTAINER_RUNTIME_ENDPOINT=unix://$SOCK"
}

# --- selftest ------------------------------------------------------------------------------------
ino() { stat -L -c %i "$1"; }

selftest() {
    our_pid >/dev/null || die "not up: run $0 up"
    local ns=pynetns-cri-selftest name=selftest-$$-$RANDOM id path pid ip mode rest t0 found
    t0=$(date +%s.%N)
    read -r id path pid ip < <(cri run "$ns" "$name") || die "RunPodSandbox failed"
    log "RunPodSandbox $ns/$name: $id netns $path pid $pid ip $ip"
    trap 'cri rm "$id" >/dev/null 2>&1 || true' EXIT
    [ "$path" != - ] && [ -e "$path" ] || die "netns path '$path' does not exist"
    [ "$(stat -f -c %T "$path")" = nsfs ] || die "$path is not a namespace file (fs $(stat -f -c %T "$path"))"
    [ "$(ino "$path")" = "$(ino "/proc/$pid/ns/net")" ] || die "$path is not /proc/$pid/ns/net"
    [ "$(ino "$path")" != "$(ino /proc/self/ns/net)" ] && [ "$(ino "$path")" != "$(ino "$NODE_NS")" ] ||
        die "$path is the host's or the node's netns"
    nsenter --net="$path" ip -o -4 addr show dev eth0 | grep -qF " $ip/" || die "eth0 in $path has no $ip"
    found=$(cri find "$ns" "$name")
    [ "$found" = "$id" ] || die "ListPodSandbox by labels found '$found', not $id"
    ip -o link show "$BRIDGE" >/dev/null 2>&1 && die "bridge $BRIDGE is on the host"
    nsenter --net="$NODE_NS" ip -o link show "$BRIDGE" >/dev/null || die "no bridge $BRIDGE in the node netns"
    cri rm "$id"; trap - EXIT
    [ ! -e "$path" ] || die "$path still there after RemovePodSandbox"
    [ ! -e "/var/lib/cni/results/$NET_NAME-$id-eth0" ] || die "CNI result cache of $id left behind"
    log "pod: netns file is nsfs, = /proc/$pid/ns/net, eth0 $ip; found by labels; removed with its netns file"
    # hostNetwork pod: no netns of its own, the pause process lives in containerd's netns (the node's)
    read -r id path pid ip < <(cri run "$ns" "$name-node" node) || die "RunPodSandbox (node network) failed"
    trap 'cri rm "$id" >/dev/null 2>&1 || true' EXIT
    read -r path rest mode rest < <(cri status "$id")
    [ "$path" = - ] && [ "$mode" = NODE ] || die "hostNetwork pod: netns path '$path', mode $mode"
    [ "$(ino "/proc/$pid/ns/net")" = "$(ino "$NODE_NS")" ] || die "hostNetwork pod $pid is not in the node netns"
    cri rm "$id"; trap - EXIT
    log "hostNetwork pod: no network entry in runtimeSpec, NamespaceOption.network NODE, pid in the node netns"
    log "selftest OK ($(awk -v a="$t0" -v b="$(date +%s.%N)" 'BEGIN{printf "%.2f", b-a}') s)"
}

# --- down ----------------------------------------------------------------------------------------
our_shims() {  # PIDs of runc shims started for our containerd
    local p
    for p in /proc/[0-9]*; do
        tr '\0' ' ' < "$p/cmdline" 2>/dev/null | grep "^[^ ]*containerd-shim[^ ]* .*-address $SOCK " >/dev/null &&
            echo "${p#/proc/}"
    done
    return 0
}

kill_wait() {  # kill_wait PID...: SIGTERM, up to 10 s, then SIGKILL
    local p _
    kill "$@" 2>/dev/null || true
    for _ in $(seq 1 100); do
        for p in "$@"; do kill -0 "$p" 2>/dev/null && break; p=; done
        [ -z "$p" ] && return 0; sleep 0.1
    done
    kill -9 "$@" 2>/dev/null || true
}

unmount_under() {  # unmount every mount point under $1, deepest first
    local m
    awk -v d="$1/" 'index($5, d) == 1 {print $5}' /proc/self/mountinfo | sort -r | while read -r m; do
        umount "$m" 2>/dev/null || umount -l "$m" 2>/dev/null || log "could not unmount $m"
    done
}

down() {
    exec 9<"$0"; flock 9
    local pid shims s p netns=() results=() ids=() f
    if pid=$(our_pid); then
        mapfile -t netns < <(cri rm-all 2>>"$LOG" || log "could not remove every sandbox through CRI")
        [ ${#netns[@]} -gt 0 ] && log "removed ${#netns[@]} pod sandbox(es) through CRI"
    fi
    if pid=$(our_pid); then kill_wait "$pid"; log "containerd $pid stopped"; fi
    rm -f "$PIDFILE"
    shims=$(our_shims)
    for s in $shims; do   # left over from sandboxes CRI did not remove: their processes, then the shim
        ids+=("$(tr '\0' '\n' < "/proc/$s/cmdline" | sed -n '/^-id$/{n;p;}')")
        for p in $(awk -v s="$s" '$4 == s {print $1}' /proc/[0-9]*/stat 2>/dev/null); do kill -9 "$p" 2>/dev/null || true; done
        kill_wait "$s"; log "killed leftover shim $s"
    done
    # pod netns files of ours that are still there: named by our CNI result cache
    # (<network>-<sandbox id>-eth0, and containerd's own cni-loopback-<sandbox id>-lo beside it)
    shopt -s nullglob
    results=(/var/lib/cni/results/"$NET_NAME"-*-eth0)
    for f in "${results[@]}"; do
        mapfile -t -O "${#netns[@]}" netns < <("$PY" -c 'import json,sys
r = json.load(open(sys.argv[1])).get("result", {})
print("\n".join(i["sandbox"] for i in r.get("interfaces", []) if i.get("sandbox")))' "$f" 2>/dev/null || true)
        s=${f#/var/lib/cni/results/"$NET_NAME"-}; s=${s%-eth0}; ids+=("$s")
        rm -f "$f" "/var/lib/cni/results/cni-loopback-$s-lo"
    done
    for s in "${ids[@]}"; do   # the cgroups runc would have removed (pids may still be reaped: retry)
        for f in /sys/fs/cgroup/k8s.io/"$s" /sys/fs/cgroup/*/k8s.io/"$s"; do
            [ -d "$f" ] || continue
            for _ in 1 2 3 4 5 6 7 8 9 10; do rmdir "$f" 2>/dev/null && break; sleep 0.1; done
        done
    done
    for f in "${netns[@]}"; do
        case "$f" in /var/run/netns/cni-*|/run/netns/cni-*) ;; *) continue ;; esac
        [ -e "$f" ] || continue
        { mountpoint -q "$f" && umount "$f"; } || true
        rm -f "$f"; log "removed leftover pod netns $f"
    done
    if [ -d "$CRI_RUN" ]; then
        unmount_under "$CRI_RUN/state"; unmount_under "$CRI_ROOT"
        if mountpoint -q "$NODE_NS" 2>/dev/null; then umount "$NODE_NS" || umount -l "$NODE_NS"; fi
        if [ -f "$MARKS" ]; then   # what up found absent: remove it if it is empty now
            while read -r f; do
                [ -d "$f" ] && rmdir "$f" 2>/dev/null && log "removed empty $f" || true
            done < <(sort -r "$MARKS")
        fi
        unmount_under "$CRI_RUN"
        rm -rf --one-file-system "$CRI_RUN"
    fi
    [ -d "$CRI_ROOT" ] && { unmount_under "$CRI_ROOT"; rm -rf --one-file-system "$CRI_ROOT"; }
    [ "${PURGE:-0}" = 1 ] && rm -rf "$CRI_CACHE"
    log "down done"
}

case "$ACTION" in
    up) up ;;
    selftest) selftest ;;
    down) down ;;
    env) printf '%s\n' "CONTAINER_RUNTIME_ENDPOINT=unix://$SOCK" "CONTAINERD_ADDRESS=$SOCK" \
                       "CONTAINERD_NAMESPACE=k8s.io" "PYNETNS_CRI_NODE_NETNS=$NODE_NS" "PYNETNS_CRI_POD_CIDR=$POD_CIDR" ;;
    pod-run) our_pid >/dev/null || die "not up"; [ $# -ge 2 ] || die "usage: $0 pod-run NS NAME [node,hostpid,sharedpid]"; cri run "$@" ;;
    pod-rm) our_pid >/dev/null || die "not up"; cri rm "$@" ;;
    pods) our_pid >/dev/null || die "not up"; cri ls ;;
    *) echo "usage: $0 up|selftest|down|env|pod-run NS NAME [OPTS]|pod-rm ID...|pods" >&2; exit 2 ;;
esac
