#!/usr/bin/env bash
# dlockctl setconf, showconf and cluster, in the guest.  What needs no
# cluster support in the module runs always: a bad file is refused with its
# line named and exit 2 before dlockctl opens a netlink socket at all.  What
# needs it (setconf then showconf round trip, -j cluster's keys, leave)
# runs when the module answers DLOCK_CMD_GET_CLUSTER; a module that answers
# EOPNOTSUPP (or EINVAL) makes those checks "ok N # SKIP kernel has no
# cluster support", and then the refusal itself is checked.
# Prints TAP.
# shellcheck source=tests/selftests/clienv.sh
. "$(dirname "$0")/clienv.sh"
ns=dlock-clus-$$
trap 'kill $(jobs -p) 2>/dev/null; [ -n "${old_ttl:-}" ] && echo "$old_ttl" >/sys/module/dlock/parameters/cluster_max_ttl_ms; ip netns del $ns 2>/dev/null; ip netns del $ns-b 2>/dev/null; rm -rf "$tmp"' EXIT
ip netns add $ns
ip -n $ns link set lo up
# in_ns CMD...: in a namespace of its own, so that a failure here leaves
# the init namespace's node alone.
in_ns() { ip netns exec $ns "$@"; }
# cluster_id: the node id of $ns, 0 outside a cluster.
cluster_id() { in_ns "$dl" -j cluster | python3 -c 'import json,sys; print(json.load(sys.stdin)["id"])'; }

skip() {
	n=$((n + 1))
	echo "ok $n # SKIP kernel has no cluster support: $1"
}

# ---- refused files, whatever the module ---------------------------------

printf '[Cluster]\nId = 1\nListenPort = 7400\n\n[Peer]\nId = 2\nEndpoint = 10.0.0.2\n' >"$tmp/noport.conf"
printf '[Cluster]\nId = 1\nListenPort = 7400\n[Peer]\nId = 1\nEndpoint = 10.0.0.2:7400\n' >"$tmp/ownid.conf"
printf '[Peer]\nId = 2\nEndpoint = 10.0.0.2:7400\n' >"$tmp/peerfirst.conf"
printf '[Cluster]\nId = 1\nListenPort = 7400\nBogus = 1\n' >"$tmp/unknown.conf"
cat >"$tmp/good.conf" <<'EOF'
# three nodes on this machine's loopback
[Cluster]
Id = 1
ListenPort = 7401
ListenAddress = 127.0.0.1

[Peer]
Id = 2
Endpoint = 127.0.0.1:7402

[Peer]
Id = 3
Endpoint = 127.0.0.1:7403
EOF

# refused FILE LINE-MESSAGE: exit 2, the message, and no netlink socket
# opened (strace sees every socket(2) of dlockctl).
refused() {
	local out rc
	out=$(strace -f -qq -e trace=socket -o "$tmp/strace" "$dl" setconf "$1" 2>&1)
	rc=$?
	[ $rc = 2 ] && [ "$out" = "dlockctl: $1:$2" ] && ! grep -q AF_NETLINK "$tmp/strace"
	ok $? "setconf ${1##*/}: refused with line and reason, exit 2, no netlink socket opened (exit $rc: $out; $(grep -c AF_NETLINK "$tmp/strace") netlink sockets)"
}
refused "$tmp/noport.conf" "7: Endpoint: port missing"
refused "$tmp/ownid.conf" "5: Id: 1 is this node's own id ([Cluster], line 1)"
refused "$tmp/peerfirst.conf" "1: [Peer] before [Cluster]"
refused "$tmp/unknown.conf" "4: unknown key 'Bogus' in [Cluster]"
# Keys (issue 15): a key file anyone may read is refused, before netlink.
key=$("$dl" cluster genkey)
key2=$("$dl" cluster genkey)
[ ${#key} = 44 ] && [ "$key" != "$key2" ] &&
	python3 -c 'import base64, sys; assert len(base64.b64decode(sys.argv[1], validate=True)) == 32' "$key"
ok $? "cluster genkey: base64 of 32 random bytes, another each time ($key)"
printf '%s\n' "$key" >"$tmp/key"
chmod 644 "$tmp/key"
printf '[Cluster]\nId = 1\nListenPort = 7400\nKeyFile = %s\n' "$tmp/key" >"$tmp/worldkey.conf"
refused "$tmp/worldkey.conf" "4: KeyFile: $tmp/key is readable or writable by every user (mode 0644): whoever reads it can speak for this cluster; chmod o-rw it (e.g. chmod 600)"
chmod 600 "$tmp/key"
printf '[Cluster]\nId = 1\nListenPort = 7400\nKey = abc=\n' >"$tmp/badkey.conf"
refused "$tmp/badkey.conf" "4: Key: not a key (base64 of 32 bytes, as 'dlockctl cluster genkey' prints)"
printf '[Cluster]\nId = 1\nListenPort = 7400\nKey2 = %s\n' "$key2" >"$tmp/key2only.conf"
refused "$tmp/key2only.conf" "4: Key2 without Key (the key this node sends with)"
printf '[Cluster]\nId = 1\nListenPort = 7400\nKey = %s\nKeyFile = %s\n' "$key" "$tmp/key" >"$tmp/twokeys.conf"
refused "$tmp/twokeys.conf" "5: KeyFile and Key both given (line 4): one of them"
printf '[Cluster]\nId = 1\nListenPort = 7400\nClusterId = 42\n' >"$tmp/cidnokey.conf"
refused "$tmp/cidnokey.conf" "4: ClusterId without Key: only sealed datagrams carry a cluster id"
printf '[Cluster]\nId = 1\nListenPort = 7400\nKey = %s\nClusterId = 4294967296\n' "$key" >"$tmp/cidbig.conf"
refused "$tmp/cidbig.conf" "5: ClusterId: '4294967296' is not a cluster id (0..4294967295)"
# A relative KeyFile is taken from the configuration file's directory, not
# the working directory: refused here since cfg/ has no such file yet.
mkdir "$tmp/cfg"
printf '[Cluster]\nId = 1\nListenPort = 7400\nKeyFile = cluster.key\n' >"$tmp/cfg/rel.conf"
out=$(cd / && "$dl" setconf "$tmp/cfg/rel.conf" 2>&1)
rc=$?
[ $rc = 2 ] && [ "$out" = "dlockctl: $tmp/cfg/rel.conf:4: KeyFile: $tmp/cfg/cluster.key: No such file or directory" ]
ok $? "a relative KeyFile is looked for beside the configuration file (exit $rc: $out)"
out=$(printf '[Cluster]\nId = 300\n' | "$dl" setconf - 2>&1)
rc=$?
[ $rc = 2 ] && [ "$out" = "dlockctl: (stdin):2: Id: '300' is not a node id (1..255)" ]
ok $? "setconf - : a bad file on stdin is refused, exit 2 (exit $rc: $out)"
# The control: a good file does get to the module, so the check above sees
# the socket it would open.
in_ns strace -f -qq -e trace=socket -o "$tmp/strace" "$dl" setconf /dev/null >/dev/null 2>&1
grep -q AF_NETLINK "$tmp/strace"
ok $? "control: a valid setconf opens a netlink socket (strace sees it)"

# ---- the probe ----------------------------------------------------------

out=$(in_ns "$dl" -j cluster 2>&1)
rc=$?
if [ $rc = 0 ]; then
	support=1
elif [ $rc = 1 ] && grep -qE 'no cluster support|Invalid argument' <<<"$out"; then
	support=0
else
	support=0
	ok 1 "probe: dlockctl -j cluster exits 0 or says there is no cluster support (exit $rc: $out)"
fi

if [ $support = 0 ]; then
	out=$(in_ns "$dl" setconf "$tmp/good.conf" 2>&1)
	rc=$?
	[ $rc = 1 ] && grep -qE 'setconf: (this dlock module has no cluster support|Invalid argument)' <<<"$out"
	ok $? "without cluster support, a valid setconf fails with exit 1 and says so (exit $rc: $out)"
	out=$(in_ns "$dl" -j status)
	json "$out" "assert 'role' not in d, d"
	ok $? "without cluster support, status -j has no role ($out)"
	for t in "a new namespace is not in a cluster" \
		"setconf then showconf gives the file back" \
		"showconf's output is a file setconf takes" \
		"the same file again changes nothing" \
		"a refused file leaves the configuration in force" \
		"-j cluster has exactly its keys" \
		"cluster prints role, id and peers" \
		"status shows the role and node id" \
		"python: Client.set_cluster()" \
		"python: Client.cluster(), leave_cluster()" \
		"IPv6 round trip" \
		"cluster leave" \
		"setconf of a file without [Cluster] leaves" \
		"setconf needs CAP_NET_ADMIN" \
		"a configuration the kernel refuses changes nothing" \
		"two namespaces over veth take their configurations" \
		"two nodes agree on one leader" \
		"keyed nodes: the key is never shown" \
		"lag: the leader's peer at 0, the follower's not known" \
		"list and status on both nodes" \
		"-j list on both nodes" \
		"list after the holder exits" \
		"watch on node 2: node 1's locks" \
		"both leave"; do
		skip "$t"
	done
	nothing_left
	echo "1..$n"
	[ "$failed" = 0 ]
	exit
fi

# ---- with cluster support -----------------------------------------------

json "$out" "assert d == {'id': 0, 'role': 'none', 'leader': None, 'term': 0, 'commit': 0, 'stray': 0, 'authenticated': False, 'cluster_id': 0, 'key_fingerprints': [], 'peers': []}, d"
ok $? "a new namespace is not in a cluster ($out)"

canon='[Cluster]
Id = 1
ListenPort = 7401
ListenAddress = 127.0.0.1
# No Key: the cluster is not authenticated.

[Peer]
Id = 2
Endpoint = 127.0.0.1:7402

[Peer]
Id = 3
Endpoint = 127.0.0.1:7403'
in_ns "$dl" setconf "$tmp/good.conf"
rc=$?
shown=$(in_ns "$dl" showconf)
[ $rc = 0 ] && [ "$shown" = "$canon" ]
ok $? "setconf then showconf gives the file back, canonical (exit $rc: ${shown//$'\n'/|})"
in_ns "$dl" showconf >"$tmp/shown.conf"
in_ns "$dl" setconf "$tmp/shown.conf" && [ "$(in_ns "$dl" showconf)" = "$canon" ]
ok $? "showconf's output is a file setconf takes, to the same configuration"

in_ns "$dl" setconf "$tmp/good.conf" && [ "$(in_ns "$dl" showconf)" = "$canon" ]
ok $? "the same file again is accepted and changes nothing"

out=$(in_ns "$dl" setconf "$tmp/noport.conf" 2>&1)
rc=$?
[ $rc = 2 ] && [ "$(in_ns "$dl" showconf)" = "$canon" ]
ok $? "a refused file leaves the configuration in force (exit $rc: $out)"

out=$(in_ns "$dl" -j cluster)
json "$out" "
assert sorted(d) == ['authenticated', 'cluster_id', 'commit', 'id', 'key_fingerprints', 'leader', 'peers', 'role', 'stray', 'term'], sorted(d)
assert isinstance(d['stray'], int) and d['stray'] >= 0, d
assert d['authenticated'] is False and d['key_fingerprints'] == [] and d['cluster_id'] == 0, d
assert d['id'] == 1 and d['role'] in ('recovering', 'follower', 'candidate', 'leader'), d
assert d['leader'] is None or d['leader'] in (1, 2, 3), d
assert isinstance(d['term'], int) and isinstance(d['commit'], int), d
assert [p['id'] for p in d['peers']] == [2, 3], d
assert [p['endpoint'] for p in d['peers']] == ['127.0.0.1:7402', '127.0.0.1:7403'], d
for p in d['peers']:
    assert sorted(p) == ['dropped', 'endpoint', 'id', 'lag', 'last_contact_ms', 'rx', 'tx'], sorted(p)
    assert all(p[k] is None or (isinstance(p[k], int) and p[k] >= 0) for k in ('last_contact_ms', 'lag')), p
    assert all(isinstance(p[k], int) and p[k] >= 0 for k in ('tx', 'rx', 'dropped')), p
"
ok $? "-j cluster has exactly its keys, this node's id and its peers ($out)"
out=$(in_ns "$dl" cluster)
grep -qE '^role: (recovering|follower|candidate|leader)$' <<<"$out" &&
	grep -qx 'id: 1' <<<"$out" && grep -qx 'peer 3: 127.0.0.1:7403' <<<"$out" &&
	grep -q '^authentication: NONE' <<<"$out" &&
	grep -qE "^datagrams from no peer's address: [0-9]+ dropped$" <<<"$out"
ok $? "cluster prints role, id, peers, that it is not authenticated, and stray datagrams (${out//$'\n'/|})"

st=$(in_ns "$dl" status)
stj=$(in_ns "$dl" -j status)
grep -qE '^role: (recovering|follower|candidate|leader)$' <<<"$st" && grep -qx 'node: 1' <<<"$st" &&
	json "$stj" "assert d['role'] in ('recovering', 'follower', 'candidate', 'leader') and d['node'] == 1, d"
ok $? "status shows the role and node id (${st//$'\n'/|}; $stj)"

# The Python binding (python/dlock over libdlock.so.1) sets and reads the
# same configuration.
# py CODE [ARG...]: CODE with a Client c, ARGs in sys.argv[1:].
py() {
	local code=$1
	shift
	in_ns env DLOCK_LIBRARY="${DLOCK_LIBRARY:-$(dirname "$dl")/libdlock.so.1}" \
		PYTHONPATH="$PWD/python" python3 -c "import dlock, json, sys; c = dlock.Client(); $code" "$@"
}
in_ns "$dl" cluster leave
out=$(py 'print(c.set_cluster(1, 7401, {3: "127.0.0.1:7403", 2: "127.0.0.1:7402"}, listen_address="127.0.0.1").id)' 2>&1)
rc=$?
shown=$(in_ns "$dl" showconf)
[ $rc = 0 ] && [ "$out" = 1 ] && [ "$shown" = "$canon" ]
ok $? "python: Client.set_cluster() gives the configuration setconf gave (exit $rc: $out; ${shown//$'\n'/|})"
out=$(py 'x = c.cluster(); j = json.loads(sys.argv[1])
assert (x.id, x.role, x.leader, x.listen_port, x.listen_address) == (j["id"], j["role"], j["leader"], 7401, "127.0.0.1"), (x, j)
assert [(p.id, p.endpoint) for p in x.peers] == [(p["id"], p["endpoint"]) for p in j["peers"]], (x, j)
c.leave_cluster(); assert c.cluster().role == "none"' "$(in_ns "$dl" -j cluster)" 2>&1)
rc=$?
[ $rc = 0 ] && [ "$(cluster_id)" = 0 ]
ok $? "python: Client.cluster() says what -j cluster says; leave_cluster() leaves (exit $rc: $out)"
in_ns "$dl" setconf "$tmp/good.conf"

printf '[Cluster]\nId = 5\nListenPort = 7405\nListenAddress = ::1\n[Peer]\nId = 6\nEndpoint = [::1]:7406\n' >"$tmp/v6.conf"
in_ns "$dl" setconf "$tmp/v6.conf"
rc=$?
shown=$(in_ns "$dl" showconf)
[ $rc = 0 ] && [ "$shown" = $'[Cluster]\nId = 5\nListenPort = 7405\nListenAddress = ::1\n# No Key: the cluster is not authenticated.\n\n[Peer]\nId = 6\nEndpoint = [::1]:7406' ]
ok $? "IPv6: a new configuration replaces the old as a whole, round trip (exit $rc: ${shown//$'\n'/|})"

in_ns "$dl" cluster leave
rc=$?
out=$(in_ns "$dl" -j cluster)
json "$out" "assert d['id'] == 0 and d['role'] == 'none' and d['peers'] == [], d" &&
	[ $rc = 0 ] && ! in_ns "$dl" status | grep -q '^role:' &&
	in_ns "$dl" showconf | grep -q '^# Not in a cluster'
ok $? "cluster leave: back to single-node mode, status without role, showconf a comment (exit $rc: $out)"

in_ns "$dl" setconf "$tmp/good.conf" && in_ns "$dl" setconf /dev/null
rc=$?
out=$(in_ns "$dl" -j cluster)
json "$out" "assert d['id'] == 0 and d['role'] == 'none', d" && [ $rc = 0 ]
ok $? "setconf of a file without [Cluster] leaves (exit $rc: $out)"

# stdin: uid 1000 may not read the file in $tmp, and must get as far as
# the kernel.
out=$(in_ns setpriv --reuid=1000 --regid=1000 --clear-groups "$dl" setconf - <"$tmp/good.conf" 2>&1)
rc=$?
[ $rc = 1 ] && grep -qE '^dlockctl: setconf: .*(CAP_NET_ADMIN|not permitted)' <<<"$out" &&
	[ "$(cluster_id)" = 0 ]
ok $? "setconf needs CAP_NET_ADMIN: uid 1000 is refused by the kernel, exit 1, nothing changes (exit $rc: $out)"

# A configuration the file allows but the kernel refuses (its port is
# taken): exit 1 with the kernel's reason, and nothing changes.
in_ns python3 -c 'import socket, sys, time
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); s.bind(("127.0.0.1", 7401))
open(sys.argv[1], "w").close(); time.sleep(600)' "$tmp/bound" &
holder=$!
wait_for test -e "$tmp/bound"
out=$(in_ns "$dl" setconf "$tmp/good.conf" 2>&1)
rc=$?
kill $holder
wait $holder 2>/dev/null
[ $rc = 1 ] && grep -qE '^dlockctl: setconf: .+' <<<"$out" && [ "$(cluster_id)" = 0 ]
ok $? "a configuration the kernel refuses (port taken): exit 1, its reason, nothing changes (exit $rc: $out)"

# Two nodes over a veth pair: they elect a leader, and each sees the other.
ip netns add $ns-b
ip link add veth-clus netns $ns type veth peer name veth-clus netns $ns-b
ip -n $ns addr add 10.99.0.1/24 dev veth-clus
ip -n $ns-b addr add 10.99.0.2/24 dev veth-clus
ip -n $ns link set veth-clus up
ip -n $ns-b link set veth-clus up
# A fresh cluster grants nothing for one max TTL (the lock-delay): short.
params=/sys/module/dlock/parameters
old_ttl=$(cat $params/cluster_max_ttl_ms)
echo 2000 >$params/cluster_max_ttl_ms
# Keyed, cluster id 42: a from a key file named relative to its
# configuration file (set from another working directory), b with the key
# in its file.
cp -p "$tmp/key" "$tmp/cfg/cluster.key"
printf '[Cluster]\nId = 1\nListenPort = 7400\nKeyFile = cluster.key\nClusterId = 42\n[Peer]\nId = 2\nEndpoint = 10.99.0.2:7400\n' >"$tmp/cfg/a.conf"
printf '[Cluster]\nId = 2\nListenPort = 7400\nKey = %s\nClusterId = 42\n[Peer]\nId = 1\nEndpoint = 10.99.0.1:7400\n' "$key" >"$tmp/b.conf"
(cd / && in_ns "$dl" setconf "$tmp/cfg/a.conf") && ip netns exec $ns-b "$dl" setconf "$tmp/b.conf"
ok $? "two namespaces over veth take their configurations (a's KeyFile relative to its file)"
# led NS: NS knows a leader, it is 1 or 2, and has heard from its peer.
led() {
	ip netns exec "$1" "$dl" -j cluster | json "$(cat)" "
assert d['leader'] in (1, 2) and d['role'] in ('leader', 'follower'), d
assert isinstance(d['peers'][0]['last_contact_ms'], int) and d['peers'][0]['rx'] > 0, d"
}
# agree: both name the same leader in the same term.  Each node is read
# at its own moment: on a loaded machine an election can fall between the
# two reads (term 5 on one, 6 on the other), so agreement is waited for.
agree() {
	a=$(in_ns "$dl" -j cluster)
	b=$(ip netns exec $ns-b "$dl" -j cluster)
	json "[$a, $b]" "
assert d[0]['leader'] == d[1]['leader'], d
assert sorted([d[0]['role'], d[1]['role']]) == ['follower', 'leader'], d
assert d[0]['term'] == d[1]['term'] >= 1, d"
}
wait_for led $ns && wait_for led $ns-b && wait_for agree && agree
ok $? "two nodes agree on one leader and a term; -j cluster shows the contact ($a $b)"
sa=$(in_ns "$dl" showconf)
ca=$(in_ns "$dl" cluster)
json "[$a, $b]" "
assert d[0]['authenticated'] and d[1]['authenticated'], d
assert len(d[0]['key_fingerprints']) == 1 and d[0]['key_fingerprints'] == d[1]['key_fingerprints'], d
assert all(len(f) == 16 for f in d[0]['key_fingerprints']), d
assert d[0]['peers'][0]['seal_drops'] == {}, d
assert d[0]['cluster_id'] == d[1]['cluster_id'] == 42, d" &&
	! grep -qF "$key" <<<"$sa$ca$a$b" && grep -q '^# Key = (set, never shown; fingerprint [0-9a-f]\{16\})$' <<<"$sa" &&
	grep -qx 'ClusterId = 42' <<<"$sa" && grep -qx 'cluster id: 42' <<<"$ca" &&
	grep -q '^key: fingerprint [0-9a-f]\{16\}$' <<<"$ca"
ok $? "keyed nodes, cluster id 42: the key is never shown, its fingerprint is, the same on both; the cluster id shown; no seal drops (${sa//$'\n'/|}; ${ca//$'\n'/|})"

# lag: the leader reports its peer's, 0 once caught up; the follower none
# (not known there: null, no text line).
in_b() { ip netns exec $ns-b "$@"; }
lagged() {
	a=$(in_ns "$dl" -j cluster)
	b=$(in_b "$dl" -j cluster)
	json "[$a, $b]" "
l = [x for x in d if x['role'] == 'leader']
f = [x for x in d if x['role'] == 'follower']
assert len(l) == 1 and len(f) == 1, d
assert l[0]['peers'][0]['lag'] == 0 and f[0]['peers'][0]['lag'] is None, d"
}
wait_for lagged && lagged
rc=$?
if json "$a" "assert d['role'] == 'leader', d"; then lt=$(in_ns "$dl" cluster) ft=$(in_b "$dl" cluster)
else lt=$(in_b "$dl" cluster) ft=$(in_ns "$dl" cluster); fi
[ $rc = 0 ] && grep -qx '  lag: 0 entries' <<<"$lt" && ! grep -q 'lag' <<<"$ft"
ok $? "lag: the leader's peer at 0 once caught up, the follower's not known (-j null, no text line) ($a $b; ${lt//$'\n'/|})"

# list and status on both nodes: a lock held on node 1 is listed on both
# (each lists what it applied), without pid or command (not replicated).
# A watch on node 2 sees the events of node 1's locks.
lk=lst-$$
in_b "$dl" -j watch $lk >"$tmp/watch.b" &
watcher=$!
# (the cluster's TTL cap is 2 s here: on a loaded guest the probe may expire
# before its unlock; its end is then "expired", as node 1 applied it)
wait_for in_ns "$dl" lock $lk-probe --ttl 60 --try --owner p
in_ns "$dl" unlock $lk-probe --owner p
# The probe's grant reached the watch: it listens (or it never will).
wait_for grep -q "\"granted\",\"name\":\"$lk-probe\"" "$tmp/watch.b"
# run's lease lasts as long as CMD: CMD says where it is, to be ended.
in_ns "$dl" run $lk-held -- sh -c "echo \$\$ >$tmp/held.pid; exec sleep 300" &
runner=$!
# listed NODE-CMD: the node lists exactly the held lock, with a holder.
listed() { "$@" "$dl" -j list $lk | json "$(cat)" "assert [x['name'] for x in d] == ['$lk-held'] and len(d[0]['holders']) == 1, d"; }
wait_for listed in_ns && wait_for listed in_b
a=$(in_ns "$dl" list $lk)
b=$(in_b "$dl" list $lk)
[ "$a" = "$b" ] || [ "${a%ttl*}" = "${b%ttl*}" ]
same=$?
grep -qE "^$lk-held: exclusive, 1 holder, 0 waiters\$" <<<"$b" &&
	grep -qE "^  holder exclusive token [0-9]+ count 1 session [0-9]+ tag [0-9]+ pid - \(not replicated\) uid 0\$" <<<"$b" &&
	[ $same = 0 ] &&
	in_ns "$dl" -j status | json "$(cat)" "assert d['leases'] == 1 and d['locks'] == 1, d" &&
	in_b "$dl" -j status | json "$(cat)" "assert d['leases'] == 1 and d['locks'] == 1, d"
ok $? "list and status on both nodes: the lock held on node 1, no pid or command ($(echo "$b" | tr '\n' '|'))"
ja=$(in_ns "$dl" -j list)
jb=$(in_b "$dl" -j list)
json "[$ja, $jb]" "
for l in d:
    assert [x['name'] for x in l] == ['$lk-held'], l
    h = l[0]['holders'][0]
    assert h['pid'] is None and h['comm'] is None and h['uid'] == 0, h
    assert h['mode'] == 'exclusive' and h['count'] == 1 and int(h['token']) > 0, h
assert d[0][0]['holders'][0]['token'] == d[1][0]['holders'][0]['token'], d"
ok $? "-j list on both nodes parses: the same lock and token, pid and comm null ($ja $jb)"
kill "$(cat "$tmp/held.pid")"
wait $runner 2>/dev/null
empty() { "$@" "$dl" -j list $lk | json "$(cat)" "assert d == [], d"; }
wait_for empty in_ns && wait_for empty in_b &&
	in_b "$dl" -j status | json "$(cat)" "assert d['leases'] == 0, d"
ok $? "list after the holder exits: nothing on either node, status 0 leases"
tok=$(json "$ja" "print(d[0]['holders'][0]['token'])")
ended() { grep -Eq "^\{\"event\":\"(released|owner-died)\",\"name\":\"$lk-held\",.*\"token\":\"?$tok\"?," "$tmp/watch.b"; }
wait_for ended
ended && grep -Eq "^\{\"event\":\"granted\",\"name\":\"$lk-held\",.*\"token\":\"?$tok\"?," "$tmp/watch.b" &&
	grep -Eq "\"(released|expired)\",\"name\":\"$lk-probe\"" "$tmp/watch.b"
ok $? "watch on node 2: granted and ended of node 1's locks, with their token ($(tr '\n' '|' <"$tmp/watch.b"))"
kill $watcher
wait $watcher 2>/dev/null
echo "$old_ttl" >$params/cluster_max_ttl_ms
in_ns "$dl" cluster leave && ip netns exec $ns-b "$dl" cluster leave &&
	[ "$(cluster_id)" = 0 ]
ok $? "both leave"
ip netns del $ns-b

in_ns "$dl" cluster leave
nothing_left
echo "1..$n"
[ "$failed" = 0 ]
