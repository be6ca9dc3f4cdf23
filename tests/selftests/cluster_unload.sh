#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# rmmod while a three-node cluster is busy: each node a network namespace
# on a bridge, netem delay, loss and duplication on every link (datagrams
# sit in the qdiscs), clients on every node taking and releasing locks
# until they are SIGKILLed, one node cut off with a request of its client
# waiting for an answer, so that receive work, the core's timer, orphan
# work and a generic-netlink request are all pending as the module goes.
# Cluster leases do not pin the module (docs/cluster.md): it must unload at
# once, the waiting request end with an error, and the kernel log stay
# clean (the VM harness checks it).  Reloaded, the module starts with no cluster, and the
# same namespaces form a cluster again.  Prints TAP.
# shellcheck source=tests/selftests/clienv.sh
. "$(dirname "$0")/clienv.sh"
: "${DLOCK_KO:?path of dlock.ko, to load it again}"
params=/sys/module/dlock/parameters
ns=(dlun1-$$ dlun2-$$ dlun3-$$)
br=dlunbr$$

cleanup() {
	# shellcheck disable=SC2046 # pids, split on purpose
	kill $(jobs -p) 2>/dev/null
	wait 2>/dev/null
	for x in "${ns[@]}"; do ip netns del "$x" 2>/dev/null; done
	ip link del "$br" 2>/dev/null
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
modprobe bridge 2>/dev/null
modprobe sch_netem 2>/dev/null
old_ttl=$(cat "$params/cluster_max_ttl_ms")

# on NODE CMD...: CMD in node NODE's namespace (1-3)
on() { local i=$1; shift; ip netns exec "${ns[$((i - 1))]}" "$@"; }

ip link add "$br" type bridge && ip link set "$br" up || exit 1
for i in 1 2 3; do
	ip netns add "${ns[$((i - 1))]}"
	ip link add "dlunv$i-$$" type veth peer name eth0 netns "${ns[$((i - 1))]}"
	ip link set "dlunv$i-$$" master "$br" up
	on $i ip addr add "10.79.0.$i/24" dev eth0
	on $i ip link set eth0 up
	on $i ip link set lo up
	{
		printf '[Cluster]\nId = %d\nListenPort = 7400\n' $i
		for j in 1 2 3; do
			[ $j = $i ] || printf '\n[Peer]\nId = %d\nEndpoint = 10.79.0.%d:7400\n' $j $j
		done
	} >"$tmp/node$i.conf"
done

# leader_of NODE: the leader's id as NODE sees it ("None": none)
leader_of() {
	on "$1" "$dl" -j cluster | python3 -c 'import json,sys; print(json.load(sys.stdin)["leader"])'
}
# one_leader: every node names the same leader
one_leader() {
	local a b c
	a=$(leader_of 1) b=$(leader_of 2) c=$(leader_of 3)
	[ "$a" != None ] && [ "$a" = "$b" ] && [ "$b" = "$c" ]
}
# form: configures the three nodes and waits for a leader (lock-delay: a
# fresh cluster grants nothing for one max TTL, kept short)
form() {
	local i err=0
	echo 1000 >"$params/cluster_max_ttl_ms"
	for i in 1 2 3; do
		on $i "$dl" setconf "$tmp/node$i.conf" || err=1
	done
	[ $err = 0 ] && wait_for one_leader
}

form
ok $? "three namespaces form a cluster (leader $(leader_of 1))"

for i in 1 2 3; do
	on $i tc qdisc add dev eth0 root netem delay 40ms 20ms loss 10% duplicate 5%
done
# clients on every node: blocking and try acquires, TTL leases held by run
for i in 1 2 3; do
	(
		k=0
		while :; do
			k=$((k + 1))
			on $i "$dl" run "unl/$((k % 3))" --ttl 1s --wait 1s -- sleep 0.05
			on $i "$dl" lock "unl/t$i" --ttl 1s --try >/dev/null
		done
	) >/dev/null 2>&1 &
done
sleep 6
# shellcheck disable=SC2207 # pids
workers=($(jobs -p))
requests=$(on 1 "$dl" -j status | python3 -c 'import json,sys; print(json.load(sys.stdin)["requests"])')
# a client of node 1 holds a lock for good
on 1 "$dl" run unl/hold -- sleep 600 >/dev/null 2>&1 &
holdpid=$!
held() {
	on 1 "$dl" -j get unl/hold |
		python3 -c 'import json,sys; sys.exit(not json.load(sys.stdin)["holders"])'
}
wait_for held
ok $? "a client of node 1 holds unl/hold"
# node 3 hears nothing more and reaches no one: its client's request waits
ip link set "dlunv3-$$" down
on 3 "$dl" lock unl/cut --ttl 5s --try >"$tmp/cut.out" 2>&1 &
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
on 1 "$dl" cluster leave
ok $? "node 1 leaves the cluster: its client learns it may miss a LOST"
t0=$SECONDS
unload
ok $? "then rmmod, with the cluster busy, unloads the module (after $((SECONDS - t0)) s; $requests requests on node 1 before; $(tr -d '\n' <"$tmp/rmmod.err"))"
[ ! -d /sys/module/dlock ]
ok $? "the module is gone"
kill -KILL $holdpid 2>/dev/null

ip link set "dlunv3-$$" up
for i in 1 2 3; do on $i tc qdisc del dev eth0 root; done
insmod "$DLOCK_KO"
ok $? "insmod again"
id=$(on 1 "$dl" -j cluster | python3 -c 'import json,sys; print(json.load(sys.stdin)["id"])')
[ "$id" = 0 ]
ok $? "reloaded, the namespaces are single nodes again (id $id)"
form
ok $? "the same namespaces form a cluster again (leader $(leader_of 1))"
out=$(on 2 "$dl" run unl/after --ttl 1s --wait 10s -- echo held 2>&1)
[ "$out" = held ]
ok $? "a client of node 2 takes a lock through it ($out)"
err=0
for i in 1 2 3; do
	on $i "$dl" cluster leave || err=1
done
ok $err "the nodes leave"
echo "1..$n"
[ "$failed" = 0 ]
