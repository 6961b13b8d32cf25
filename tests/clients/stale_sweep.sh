#!/bin/bash
# In the style of cleanup jobs that sweep /run/netns (container-network helpers after a
# host crash, OpenStack-style netns cleanups): enumerate with `ip netns list`, then delete
# what is stale: here symlinks left by pipework-style tools whose PID is gone, and a plain
# file a crashed tool left behind. Needs a private /run/netns (it lists everything).
set -e

live=${NS_PREFIX-}live$RANDOM
echo "keeping $live"
ip netns add "$live"
trap 'ip -all netns delete' EXIT

# A process that has exited: its PID names a symlink that now dangles.
sleep 0 &
gone=$!
wait "$gone"
ln -s "/proc/$gone/ns/net" "/var/run/netns/$gone"
: >"/var/run/netns/${NS_PREFIX-}crashed"

for ns in $(ip netns list 2>/dev/null | cut -d' ' -f1); do
    if ip netns exec "$ns" true 2>/dev/null; then
        continue
    fi
    echo "removing stale $(echo "$ns" | sed "s/^$gone\$/\$PID/")"
    ip netns delete "$ns"
done
echo "left: $(ls /var/run/netns | sed "s/^$gone\$/\$PID/" | tr "\n" " ")"
