#!/bin/bash
# In the style of the VPN-in-a-namespace scripts that follow ip-netns(8): a namespace gets
# its own resolv.conf and hosts under /etc/netns/NAME, which `ip netns exec` shows the
# command in place of /etc's; the host's files stay as they are, other namespaces see the
# host's, and a command's mounts do not outlive it. The script runs with /etc under a
# private overlay (test_clients.py), so that it can write /etc/netns.
set -e

ns=${NS_PREFIX-}vpn$RANDOM
other=${NS_PREFIX-}plain$RANDOM
echo "namespaces: $ns $other"

cleanup() {
    ip netns delete "$ns" 2>/dev/null || true
    ip netns delete "$other" 2>/dev/null || true
    rm -rf "/etc/netns/$ns"
}
trap cleanup EXIT

ip netns add "$ns"
ip netns add "$other"
mkdir -p "/etc/netns/$ns"
echo "nameserver 192.0.2.53" >"/etc/netns/$ns/resolv.conf"
printf '192.0.2.80\tintranet\n' >"/etc/netns/$ns/hosts"
host_resolv=$(cat /etc/resolv.conf 2>/dev/null || true)

echo "in the namespace: $(ip netns exec "$ns" cat /etc/resolv.conf)"
ip netns exec "$ns" getent hosts intranet
[ "$(ip netns exec "$other" cat /etc/resolv.conf 2>/dev/null || true)" = "$host_resolv" ]
echo "the other namespace sees the host's resolv.conf"
[ "$(cat /etc/resolv.conf 2>/dev/null || true)" = "$host_resolv" ]
echo "the host's resolv.conf is unchanged"

# The command's view is its own: it can mount over more without the host seeing it.
ip netns exec "$ns" sh -c 'mount -t tmpfs tmpfs /mnt && touch /mnt/inside && ls /mnt'
[ ! -e /mnt/inside ] && echo "the command's mount stayed with it"
ip netns exec "$ns" sh -c 'grep -c " /etc/resolv.conf " /proc/self/mountinfo'
