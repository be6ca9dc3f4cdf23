#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# rmmod while a three-node cluster is busy (the topology of
# tests/cluster/topo.sh): netem delay, loss and duplication on every link
# (datagrams sit in the qdiscs), clients on every node taking and releasing
# locks until they are SIGKILLed, one node cut off with a request of its
# client waiting for an answer, a client of node 1 holding a lock: receive
# work, the core's timer, orphan work and generic-netlink requests are
# pending as the module goes.  A local client of a clustered node pins the
# module (docs/cluster.md): rmmod is refused until node 1 leaves, then
# unloads at once, and the kernel log stays clean (the VM harness checks
# it).  Reloaded, the module has no cluster, and the same namespaces form
# one again.  Prints TAP.
# shellcheck source=tests/selftests/clienv.sh
. "$(dirname "$0")/clienv.sh"
: "${DLOCK_KO:?path of dlock.ko, to load it again}"
params=/sys/module/dlock/parameters
# The cluster tests' topology (node1..node3 on br-dlock, 10.77.0.K), with no
# history to log faults to.
TOPO_DIR=$tmp TOPO_NEMESIS=/dev/null WORKLOAD=true
# shellcheck source=tests/cluster/topo.sh
. "$(dirname "$0")/../cluster/topo.sh"

cleanup() {
	# shellcheck disable=SC2046 # pids, split on purpose
	kill $(jobs -p) 2>/dev/null
	wait 2>/dev/null
	topo_down
	# the other suites expect the module, with its defaults
	[ -d /sys/module/dlock ] || insmod "$DLOCK_KO"
	[ -n "${old_ttl:-}" ] && echo "$old_ttl" >"$params/cluster_max_ttl_ms"
	rm -rf "$tmp"
}
trap cleanup EXIT

if [ ! -w "$params/cluster_max_ttl_ms" ]; then
	echo "1..0 # SKIP dlock.ko without cluster mode, or not root"
	exit 0
fi
modprobe sch_netem 2>/dev/null
old_ttl=$(cat "$params/cluster_max_ttl_ms")

# form: configures the three nodes and waits for a leader (lock-delay: a
# fresh cluster grants nothing for one max TTL, kept short)
form() {
	local k err=0
	echo 1000 >"$params/cluster_max_ttl_ms"
	if [ "$TOPO_N" = 0 ]; then
		topo_up 3 || err=1
	else
		for k in 1 2 3; do
			nsx $k "$dl" setconf "$TOPO_DIR/node$k.conf" || err=1
		done
	fi
	[ $err = 0 ] && wait_leader 15
}

form
ok $? "three namespaces form a cluster (leader node $(leader_of))"

netem delay 40ms 20ms loss 10% duplicate 5%
# clients on every node: blocking and try acquires, TTL leases held by run
for i in 1 2 3; do
	(
		k=0
		while :; do
			k=$((k + 1))
			nsx $i "$dl" run "unl/$((k % 3))" --ttl 1s --wait 1s -- sleep 0.05
			nsx $i "$dl" lock "unl/t$i" --ttl 1s --try >/dev/null
		done
	) >/dev/null 2>&1 &
done
sleep 6
# shellcheck disable=SC2207 # pids
workers=($(jobs -p))
requests=$(nsx 1 "$dl" -j status | python3 -c 'import json,sys; print(json.load(sys.stdin)["requests"])')
# a client of node 1 holds a lock for good
nsx 1 "$dl" run unl/hold -- sleep 600 >/dev/null 2>&1 &
holdpid=$!
held() {
	nsx 1 "$dl" -j get unl/hold |
		python3 -c 'import json,sys; sys.exit(not json.load(sys.stdin)["holders"])'
}
wait_for held
ok $? "a client of node 1 holds unl/hold"
# node 3 hears nothing more and reaches no one: its client's request waits
isolate 3
nsx 3 "$dl" lock unl/cut --ttl 5s --try >"$tmp/cut.out" 2>&1 &
cutpid=$!
sleep 0.5
# SIGKILL the other clients mid-request (the loops first, so that none
# starts another); the nodes end their sessions as they can
kill -KILL "${workers[@]}" 2>/dev/null
pkill -KILL -f "$dl run unl/[0-9]" 2>/dev/null
pkill -KILL -f "$dl lock unl/t" 2>/dev/null

# unload: rmmod, tried for up to 30 s
unload() {
	local start=$SECONDS
	while [ $((SECONDS - start)) -lt 30 ]; do
		rmmod dlock 2>"$tmp/rmmod.err" && return 0
		sleep 0.2
	done
	return 1
}
# (the cut-off node's request may still be waiting: on the debug kernel its
# EAGAIN may come sooner)
! rmmod dlock 2>"$tmp/rmmod.err" && grep -q "in use" "$tmp/rmmod.err"
ok $? "rmmod is refused while clients of clustered nodes are open ($(tr -d '\n' <"$tmp/rmmod.err"))"
for _ in $(seq 100); do kill -0 $cutpid 2>/dev/null || break; sleep 0.1; done
! kill -0 $cutpid 2>/dev/null && ! wait $cutpid &&
	grep -q "^dlockctl: unl/cut: cluster: " "$tmp/cut.out"
# (ETIMEDOUT "... may still take effect" if it was forwarded, EAGAIN if the
# node had no leader yet: the debug kernel's guest is slow to form one)
ok $? "the request waiting on the cut-off node ended with an error, in the kernel's words ($(tr -d '\n' <"$tmp/cut.out"))"
! rmmod dlock 2>"$tmp/rmmod.err" && grep -q "in use" "$tmp/rmmod.err"
ok $? "rmmod is still refused while node 1's client holds its lock"
nsx 1 "$dl" cluster leave
ok $? "node 1 leaves the cluster"
t0=$SECONDS
unload
ok $? "then rmmod, with the cluster busy, unloads the module (after $((SECONDS - t0)) s; $requests requests on node 1 before; $(tr -d '\n' <"$tmp/rmmod.err"))"
[ ! -d /sys/module/dlock ]
ok $? "the module is gone"
kill -KILL $holdpid 2>/dev/null

heal
insmod "$DLOCK_KO"
ok $? "insmod again"
id=$(nsx 1 "$dl" -j cluster | python3 -c 'import json,sys; print(json.load(sys.stdin)["id"])')
[ "$id" = 0 ]
ok $? "reloaded, the namespaces are single nodes again (id $id)"
form
ok $? "the same namespaces form a cluster again (leader node $(leader_of))"
out=$(nsx 2 "$dl" run unl/after --ttl 1s --wait 10s -- echo held 2>&1)
[ "$out" = held ]
ok $? "a client of node 2 takes a lock through it ($out)"
err=0
for i in 1 2 3; do
	nsx $i "$dl" cluster leave || err=1
done
ok $err "the nodes leave"
echo "1..$n"
[ "$failed" = 0 ]
