#!/bin/bash
# In the style of CNI's scripts/priv-net-run.sh and exec-plugins.sh: a container id of random
# hex, `ip netns add` of it, the real CNI plugins (Debian's containernetworking-plugins, in
# /usr/lib/cni) run with CNI_NETNS=/var/run/netns/$ID for each network configuration in
# order, the command run with `ip netns exec`, and in the EXIT trap the plugins' DEL in
# reverse order and `ip netns del`. The bridge plugin makes its bridge in the caller's
# network namespace: this runs in one of its own, with a private /run/netns.
set -e

CNI_PATH=${CNI_PATH:-/usr/lib/cni}
work=$(mktemp -d)
NETCONFPATH=$work/net.d
mkdir "$NETCONFPATH"

cat >"$NETCONFPATH/10-clientnet.conf" <<EOF
{
    "cniVersion": "0.4.0",
    "name": "clientnet",
    "type": "bridge",
    "bridge": "clbr0",
    "isGateway": true,
    "ipMasq": false,
    "ipam": {
        "type": "host-local",
        "subnet": "10.77.0.0/24",
        "routes": [{"dst": "0.0.0.0/0"}],
        "dataDir": "$work/ipam"
    }
}
EOF
cat >"$NETCONFPATH/99-loopback.conf" <<EOF
{"cniVersion": "0.4.0", "name": "lo", "type": "loopback"}
EOF

exec_plugins() {  # exec_plugins add|del CONTAINERID NETNS
    local command=$1 contid=$2 netns=$3 i=0 netconf plugin res confs
    confs=("$NETCONFPATH"/*.conf)
    [ "$command" = del ] && confs=($(printf '%s\n' "${confs[@]}" | sort -r))
    for netconf in "${confs[@]}"; do
        plugin=$(sed -n 's/.*"type": *"\([^"]*\)".*/\1/p' "$netconf" | head -n 1)
        res=$(CNI_COMMAND=$(echo "$command" | tr '[:lower:]' '[:upper:]') \
              CNI_CONTAINERID=$contid CNI_NETNS=$netns CNI_IFNAME=eth$i \
              CNI_PATH=$CNI_PATH "$CNI_PATH/$plugin" <"$netconf") || {
            echo "$plugin $command failed: $res" >&2
            return 1
        }
        if [ "$command" = add ]; then
            echo "$plugin: $(printf '%s' "$res" | tr -d ' \n' |
                sed -n 's/.*"address":"\([^"]*\)".*/\1/p')"
        fi
        i=$((i + 1))
    done
}

contid=${NS_PREFIX-}$(printf '%x%x%x%x' $RANDOM $RANDOM $RANDOM $RANDOM)
netnspath=/var/run/netns/$contid

ip netns add "$contid"
cleanup() {
    exec_plugins del "$contid" "$netnspath"
    ip netns delete "$contid"
    rm -rf "$work"
}
trap cleanup EXIT
exec_plugins add "$contid" "$netnspath"

# priv-net-run.sh ends with `ip netns exec $contid "$@"`
run() { ip netns exec "$contid" "$@"; }
run ip -br -4 addr show | awk '{print $1, $3}'
run ip route show
run ping -c 1 -W 5 -q 10.77.0.1 >/dev/null && echo "the gateway answers"
ip netns pids "$contid" | wc -l
echo "host side: $(ip -br link show type bridge | awk '{print $1}')"
