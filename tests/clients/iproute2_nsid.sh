#!/bin/bash
# In the style of iproute2's own netns tests (testsuite/tests/ip/netns): every step is one
# `ip` command whose stderr must stay empty, its output then matched by a regex; nsids are
# set one by one and from a batch file, and listed with `list`, bare `ip netns` and
# `list-id`. Needs a network namespace of its own (nsids belong to the caller's) and an
# empty /run/netns (it lists everything).
set -u

NS=${NS_PREFIX-}testnsid$RANDOM
echo "testing with $NS"  # the normalised names follow its order
NSID=99
N=8
work=$(mktemp -d)
failed=0

cleanup() {
    ip netns del "$NS" 2>/dev/null
    for i in $(seq 1 $N); do ip netns del "$NS-$i" 2>/dev/null; done
    rm -rf "$work"
}
trap cleanup EXIT

ts_ip() {  # ts_ip DESCRIPTION IP-ARGS...: run ip, keep its output for test_on
    local desc=$1
    shift
    ip "$@" >"$work/out" 2>"$work/err"
    local rc=$?
    if [ $rc -ne 0 ] || [ -s "$work/err" ]; then
        echo "FAILED: $desc (rc $rc)"
        sed 's/^/  stderr: /' "$work/err"
        failed=1
    else
        echo "PASS: $desc"
    fi
}

test_on() {  # test_on REGEX: the last ts_ip printed a line matching REGEX
    if grep -qE -- "$1" "$work/out"; then
        echo "PASS: output has /$1/"
    else
        echo "FAILED: output lacks /$1/"
        sed 's/^/  stdout: /' "$work/out"
        failed=1
    fi
}

ts_ip "add new netns" netns add "$NS"
ts_ip "set its nsid to $NSID" netns set "$NS" $NSID
ts_ip "list netns" netns list
test_on "^$NS \(id: $NSID\)$"
ts_ip "list netns without explicit list or show" netns
test_on "^$NS \(id: $NSID\)$"
ts_ip "show" netns show
test_on "^$NS \(id: $NSID\)$"
ts_ip "list nsid" netns list-id
test_on "^nsid $NSID \(iproute2 netns name: $NS\)$"
ts_ip "list nsid as JSON" -j netns list-id
test_on "\"nsid\":$NSID,\"name\":\"$NS\""
ts_ip "delete netns" netns del "$NS"

for i in $(seq 1 $N); do
    echo "netns add $NS-$i"
    echo "netns set $NS-$i $((i + 100))"
done >"$work/batch"
ts_ip "add and set from a batch" -b "$work/batch"
ts_ip "list nsid after the batch" netns list-id
for i in $(seq 1 $N); do test_on "^nsid $((i + 100)) \(iproute2 netns name: $NS-$i\)$"; done
ts_ip "nsid auto" netns add "$NS"
ts_ip "nsid auto" netns set "$NS" auto
ts_ip "list with ids" netns list
test_on "^$NS \(id: 0\)$"
cat "$work/out"  # in directory order

ts_ip "delete from stdin" -b - < <(for i in $(seq 1 $N); do echo "netns del $NS-$i"; done)
ts_ip "delete the last" netns delete "$NS"
ts_ip "nothing left" netns list
[ -s "$work/out" ] && { echo "FAILED: entries left"; cat "$work/out"; failed=1; }

# A set that the kernel refuses: ip's `Error:` line and exit status 2.
ip netns add "$NS"
ip netns set "$NS" 7
ip netns set "$NS" 8 2>&1
echo "rc $?"
ip netns del "$NS"

exit $failed
