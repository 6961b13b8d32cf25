#!/bin/bash
# In the style of pipework: give a running "container" (here a process in a network
# namespace of its own) an extra interface. The container's namespace is named after its
# PID by a symlink /var/run/netns/$PID -> /proc/$PID/ns/net (not a bind mount: nothing is
# pinned), the guest end of a veth is moved in with `ip link set … netns $PID`, configured
# with `ip netns exec $PID …`, and the symlink is removed at the end. Needs a private
# /run/netns (the names are bare PIDs) and a network namespace of its own for the host end.
set -e

die() { echo "$*" >&2; exit 1; }

# pipework's probe for an ip that knows netns
ip netns >/dev/null 2>&1 || die "ip netns is not supported by this ip"

unshare -n sleep 60 &
NSPID=$!
trap 'kill $NSPID 2>/dev/null; rm -f /var/run/netns/$NSPID' EXIT
while [ "$(readlink /proc/$NSPID/ns/net)" = "$(readlink /proc/self/ns/net)" ]; do sleep 0.01; done

say() { sed "s/\b$NSPID\b/\$NSPID/g"; }

[ ! -d /var/run/netns ] && mkdir -p /var/run/netns
rm -f "/var/run/netns/$NSPID"
ln -s "/proc/$NSPID/ns/net" "/var/run/netns/$NSPID"

LOCAL_IFNAME="v${NSPID}pl"
GUEST_IFNAME="v${NSPID}pg"
CONTAINER_IFNAME=eth1
ip link add name "$LOCAL_IFNAME" mtu 1500 type veth peer name "$GUEST_IFNAME" mtu 1500
ip link set "$GUEST_IFNAME" netns "$NSPID"
ip netns exec "$NSPID" ip link set "$GUEST_IFNAME" name "$CONTAINER_IFNAME"
ip netns exec "$NSPID" ip addr add 10.42.0.2/24 dev "$CONTAINER_IFNAME"
ip netns exec "$NSPID" ip link set "$CONTAINER_IFNAME" up
ip netns exec "$NSPID" ip route replace default via 10.42.0.1
ip addr add 10.42.0.1/24 dev "$LOCAL_IFNAME"
ip link set "$LOCAL_IFNAME" up

echo "listed: $(ip netns list | say)"
echo "identified: $(ip netns identify "$NSPID" | say)"
[ "$(ip netns pids "$NSPID")" = "$NSPID" ] || die "pids does not find the container"
ip netns exec "$NSPID" ip -br -4 addr show dev "$CONTAINER_IFNAME" | awk '{print $1, $3}'
ip netns exec "$NSPID" ip route show | say
ip netns exec "$NSPID" ping -c 1 -W 5 -q 10.42.0.1 >/dev/null || die "no reply from the host end"
echo "ping ok"

# pipework's docker-ns helper: run a command in the container's network namespace.
ip netns exec "$NSPID" sh -c 'cat /sys/class/net/eth1/operstate'

rm -f "/var/run/netns/$NSPID"
ip netns list | say
ip netns exec "$NSPID" true 2>&1 | say
echo "done"
