#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# Cluster mode in one guest: three network namespaces on a bridge, each one
# node (10.77.0.1-3, UDP port 7400); cluster_test configures them and checks
# locks across them and faults.  Needs root, ip(8) and the bridge module.
# Usage: cluster_test.sh [TEST]   TEST: cluster_test (default) or
# cluster_seal_test (sealed datagrams, the same three namespaces).
set -u
cd "$(dirname "$0")/../.."
build=${DLOCK_BUILD:-$PWD/build}
params=/sys/module/dlock/parameters
ns=(dlcl1-$$ dlcl2-$$ dlcl3-$$)
br=dlclbr$$

cleanup() {
	for n in "${ns[@]}"; do ip netns del "$n" 2>/dev/null; done
	ip link del "$br" 2>/dev/null
	# Back to the defaults other tests expect.
	[ -n "${old_ttl:-}" ] && echo "$old_ttl" >"$params/cluster_max_ttl_ms"
	[ -n "${old_session:-}" ] && echo "$old_session" >"$params/cluster_session_ms"
	# cluster_test shortens it for its timed-out acquires
	[ -n "${old_answer:-}" ] && echo "$old_answer" >"$params/cluster_answer_ms"
	# cluster_seal_test sets these for one configuration and puts them back
	[ -n "${old_rate:-}" ] && echo "$old_rate" >"$params/cluster_seal_rate"
	[ -n "${old_burst:-}" ] && echo "$old_burst" >"$params/cluster_seal_burst"
	# cluster_test's flood shrinks the receive queue
	[ -n "${old_rxq:-}" ] && echo "$old_rxq" >"$params/cluster_rxq_max"
}
trap cleanup EXIT

if [ ! -w "$params/cluster_max_ttl_ms" ]; then
	echo "1..0 # SKIP dlock.ko without cluster mode, or not root"
	exit 0
fi
modprobe bridge 2>/dev/null
modprobe sch_netem 2>/dev/null
# A fresh cluster grants nothing for one max TTL (lock-delay): keep it short.
old_ttl=$(cat "$params/cluster_max_ttl_ms")
old_session=$(cat "$params/cluster_session_ms")
old_answer=$(cat "$params/cluster_answer_ms")
old_rate=$(cat "$params/cluster_seal_rate")
old_burst=$(cat "$params/cluster_seal_burst")
old_rxq=$(cat "$params/cluster_rxq_max")
echo 1000 >"$params/cluster_max_ttl_ms"
echo 3000 >"$params/cluster_session_ms"

set -e
ip link add "$br" type bridge
ip link set "$br" up
for i in 1 2 3; do
	n=${ns[$((i - 1))]}
	ip netns add "$n"
	ip link add "dlclv$i-$$" type veth peer name eth0 netns "$n"
	ip link set "dlclv$i-$$" master "$br" up
	ip -n "$n" addr add "10.77.0.$i/24" dev eth0
	ip -n "$n" link set eth0 up
	ip -n "$n" link set lo up
done
set +e
# node i's bridge port is dlclv<i><suffix> (cluster_faults.h's cut_to())
export DLCL_PORT_SUFFIX="-$$"
"$build/selftests/${1:-cluster_test}" "${ns[@]}"
