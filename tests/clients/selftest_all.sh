#!/bin/bash
# In the style of the kernel's net selftests that set up many namespaces and tear them all
# down at once: a loop of `ip netns add`, `ip -all netns exec` to configure and inspect
# every namespace (its "netns: NAME" headers, exit statuses that do not stop it),
# `ip netns attach` of a process's namespace, `ip netns set … auto` and the ids in
# `ip netns list`, then `ip -all netns delete` in the EXIT trap. -all needs an empty
# /run/netns: this runs in a private one.
set -eu

PIDS=()
cleanup() {
    local pid
    for pid in "${PIDS[@]}"; do kill "$pid" 2>/dev/null || true; done
    ip -all netns delete
    if [ -n "$(ls -A /run/netns)" ]; then
        echo "left in /run/netns: $(ls -A /run/netns)" >&2
        exit 1
    fi
}
trap cleanup EXIT

ns_names=()
for i in 1 2 3; do
    ns="${NS_PREFIX-}r$i-$RANDOM"
    ip netns add "$ns"
    ns_names+=("$ns")
done
echo "made: ${ns_names[*]}"  # in this order: the normalised names follow it
echo "listed in directory order:"
ip netns list

ip -all netns exec ip link set lo up
ip -all netns exec ip -br link show dev lo | sed 's/ \+/ /g'
echo "statuses do not stop -all exec:"
ip -all netns exec sh -c 'echo in $(ip -br link show lo | cut -d" " -f1); exit 3'
echo "rc $?"
echo "a command killed by a signal stops it:"
ip -all netns exec sh -c 'kill -TERM $$' || echo "rc $?"
ip netns exec "${ns_names[0]}" ip -all netns exec ip netns identify

# The ids the kernel gives them, as listed: one `set`, then a link between two (which
# gives the peers ids of their own in each other).
ip netns set "${ns_names[0]}" auto
ip link add a0 netns "${ns_names[1]}" type veth peer name b0 netns "${ns_names[2]}"
ip netns list | sort
ip -j netns list | python3 -c 'import json, sys; print(sorted(len(e) for e in json.load(sys.stdin)))'
ip -n "${ns_names[1]}" netns list-id | sed 's/(.*)//'

# A process's own namespace, named by attach: identify and pids see it, exec enters it.
unshare -n sleep 60 &
pid=$!
PIDS+=("$pid")
while [ "$(readlink /proc/$pid/ns/net)" = "$(readlink /proc/self/ns/net)" ]; do sleep 0.01; done
ip netns attach "${NS_PREFIX-}attached" "$pid"
[ "$(ip netns identify "$pid")" = "${NS_PREFIX-}attached" ]
[ "$(ip netns pids "${NS_PREFIX-}attached")" = "$pid" ]
ip netns exec "${NS_PREFIX-}attached" ip -br link show | cut -d' ' -f1
ip netns attach "${NS_PREFIX-}attached" "$pid" 2>&1 || echo "second attach: rc $?"
ip netns attach "${NS_PREFIX-}attached2" 0 2>&1 || echo "attach 0: rc $?"

echo "after the namespaces: $(ip netns | wc -l) named"
ip -all netns exec true | grep -c '^netns: '
