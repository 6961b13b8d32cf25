#!/bin/bash
# In the style of the kernel's net selftests (tools/testing/selftests/net): a setup_ns helper
# that makes ns-RANDOM namespaces with lo up, a veth pair made straight into two of them,
# `ip -netns` / `ip -n` configuration, traffic by `ip netns exec … ping`, exit statuses
# checked through `ip netns exec`, a background process found by `ip netns pids` and
# `ip netns identify`, and a cleanup_ns trap. Runs in the machine's /run/netns: every name
# is its own ($NS_PREFIX, then random). Its listings' stderr is dropped: entries that others
# break meanwhile are reported differently by pynetns, on purpose.
set -u

NS_LIST=()
RET=0

check_err() {  # selftests' check_err: remember a failure, go on
    if [ "$1" -ne 0 ]; then
        echo "FAIL: $2"
        RET=1
    else
        echo "ok: $2"
    fi
}

cleanup_ns() {
    local ns
    for ns in "$@"; do
        [ -z "$ns" ] && continue
        ip netns pids "$ns" 2>/dev/null | xargs -r kill 2>/dev/null
        ip netns delete "$ns" &>/dev/null
        if ip netns list 2>/dev/null | grep -qw -- "$ns"; then
            echo "cleanup_ns: $ns is still there" >&2
            RET=1
        fi
    done
}

setup_ns() {  # setup_ns VAR...: each VAR gets a fresh namespace's name
    local var ns
    for var in "$@"; do
        ns="${NS_PREFIX-}ns-$RANDOM$RANDOM"
        ip netns add "$ns" || return 1
        NS_LIST+=("$ns")
        ip -netns "$ns" link set lo up || return 1
        printf -v "$var" '%s' "$ns"
    done
}

busywait() {  # busywait MS CMD...: until CMD succeeds, at most MS milliseconds
    local left=$1
    shift
    until "$@"; do
        ((left -= 10)) && ((left > 0)) || return 1
        sleep 0.01
    done
}

bg_pid=""
cleanup() {
    [ -n "$bg_pid" ] && kill "$bg_pid" 2>/dev/null && wait "$bg_pid" 2>/dev/null
    cleanup_ns "${NS_LIST[@]}"
}
trap cleanup EXIT

setup_ns ns1 ns2 || { echo "setup_ns failed"; exit 1; }
echo "made $ns1 $ns2"

ip netns list 2>/dev/null | grep -qx -- "$ns1"
check_err $? "ip netns list shows the new namespace"

# The veth pair is created directly in the two namespaces: the host's network never sees it.
ip link add veth0 netns "$ns1" type veth peer name veth1 netns "$ns2"
check_err $? "veth pair between the namespaces"
ip -n "$ns1" addr add 192.0.2.1/24 dev veth0
ip -n "$ns2" addr add 192.0.2.2/24 dev veth1
ip -n "$ns1" link set veth0 up
ip -netns "$ns2" link set veth1 up
ip -n "$ns1" -br -4 addr show dev veth0 | awk '{print $1, $3}'

ip netns exec "$ns1" ping -c 1 -W 5 -q 192.0.2.2 >/dev/null
check_err $? "ping across the veth"

for ns in "$ns1" "$ns2"; do
    ip netns exec "$ns" sysctl -qw net.ipv4.ip_forward=1
    echo "forwarding: $(ip netns exec "$ns" sysctl -n net.ipv4.ip_forward)"
done

ip netns exec "$ns1" sh -c 'exit 7'
[ $? -eq 7 ]
check_err $? "exec passes the command's exit status"
ip netns exec "$ns1" false
[ $? -eq 1 ]
check_err $? "exec of false"
ip netns exec "$ns2" bash -c 'test "$1 $2" = "a b c"' _ a "b c"
check_err $? "exec keeps the words of the command"
ip netns exec "$ns2" no-such-command-here 2>/dev/null
check_err $(( $? == 0 )) "exec of a missing command fails"

timeout 0.5 ip netns exec "$ns1" sleep 30
[ $? -eq 124 ]
check_err $? "timeout reaches the command exec runs"

ip netns exec "$ns1" sleep 30 &
bg_pid=$!
in_pids() { ip netns pids "$ns1" | grep -qx "$bg_pid"; }
busywait 5000 in_pids
check_err $? "ip netns pids finds the background command"
[ "$(ip netns identify "$bg_pid")" = "$ns1" ]
check_err $? "ip netns identify names its namespace"
[ -z "$(ip netns pids "$ns2")" ]
check_err $? "nothing runs in the other namespace"
kill "$bg_pid"
wait "$bg_pid" 2>/dev/null
bg_pid=""

# `ip -n NS` switches ip itself into NS first: it is then the one process there, and
# commands it starts (even another ip) find themselves in NS.
[ "$(ip -n "$ns1" netns pids "$ns1" | wc -l)" = 1 ]
check_err $? "ip -n NS netns pids NS sees only itself"
[ "$(ip -n "$ns1" netns identify)" = "$ns1" ]
check_err $? "ip -n NS netns identify"
[ "$(ip -n "$ns2" netns exec "$ns1" ip netns identify)" = "$ns1" ]
check_err $? "exec's command identifies the namespace it was given"

# A batch of link commands for one namespace: not the netns object, so ip's own.
ip -n "$ns2" -b - <<EOF
link add inner0 type veth peer name inner1
addr add 198.51.100.1/24 dev inner0
link set inner0 up
EOF
check_err $? "ip -n NS -b - runs in the namespace"
ip -n "$ns2" -br link show type veth | awk '{print $1}'

ip netns add "$ns1" 2>&1 | sed "s|$ns1|NS1|"
ip netns exec "${ns1}x" true 2>&1 | sed "s|$ns1|NS1|"
check_err $(( PIPESTATUS[0] != 255 )) "exec of a missing namespace: 255"

exit $RET
