#!/usr/bin/env bash
# dlockctl elect and observe (libdlock's dlock_campaign/dlock_observe), in
# the guest: a standby takes over when the leader is killed, observers print
# the sequence of leaders' values, lost leadership ends CMD, an election
# takes no lock but its name, observers see values set by set-value.
# Prints TAP.
# shellcheck source=tests/selftests/clienv.sh
. "$(dirname "$0")/clienv.sh"
trap 'kill $(jobs -p) 2>/dev/null; rm -rf "$tmp"' EXIT

# value_is NAME VALUE: NAME's holder published VALUE.
value_is() { "$dl" -j get "$1" 2>/dev/null | grep -q "\"value\":\"$2\""; }
waiters_are() { "$dl" -j get "$1" 2>/dev/null |
	json "$(cat)" "assert len(d['waiters']) == $2"; }
# only_lock NAME: of the locks whose names start with NAME, NAME is the
# only one (no helper lock such as NAME~).
only_lock() { "$dl" -j list "$1" | json "$(cat)" "assert [l['name'] for l in d] == ['$1'], d"; }

# Observers first: they must report both leaders in order.
"$dl" observe svc > "$tmp/obs" 2>"$tmp/obs.err" &
obs=$!
"$dl" -j observe svc > "$tmp/obs.json" &
obsj=$!

# CMD execs its sleep: a child it forked would keep the lease (as with
# run) after its parent is killed.
"$dl" elect svc addr-a -- sh -c "echo \$\$ > $tmp/a.pid; echo A >> $tmp/order; exec sleep 600" &
a=$!
wait_for value_is svc addr-a && wait_for grep -qx A "$tmp/order"
ok $? "the first candidate is elected, publishes its value and runs CMD"
"$dl" elect svc addr-b -- sh -c "echo \$\$ > $tmp/b.pid; echo B >> $tmp/order; exec sleep 601" &
b=$!
wait_for waiters_are svc 1
ok $? "the second candidate waits behind the leader"
only_lock svc
ok $? "the election holds the lock svc and no other ($("$dl" list svc | tr '\n' ' '))"
out=$("$dl" elect svc addr-c --try -- true 2>&1)
rc=$?
ok "$([ $rc = 4 ] && grep -q 'lock is held' <<<"$out" && echo 0 || echo 1)" \
	"elect --try while another leads exits 4 (got $rc: $out)"
"$dl" elect svc addr-c -n -E 9 -- true 2>/dev/null
rc=$?
ok "$([ $rc = 9 ] && echo 0 || echo 1)" "elect -n -E 9 while another leads exits 9 (got $rc)"
[ "$(cat "$tmp/order")" = A ]
ok $? "only the leader's CMD runs ($(tr '\n' ' ' < "$tmp/order"))"

kill -9 $a
wait $a 2>/dev/null
wait_for value_is svc addr-b
ok $? "kill -9 of the leader: the second candidate takes over"
only_lock svc
ok $? "after the takeover too, svc is the only lock ($("$dl" list svc | tr '\n' ' '))"
wait_for grep -qx B "$tmp/order"
[ "$(tr '\n' ' ' < "$tmp/order")" = "A B " ]
ok $? "the new leader's CMD runs after the old one's ($(tr '\n' ' ' < "$tmp/order"))"
wait_for sh -c "! kill -0 $(cat "$tmp/a.pid")"
ok $? "the killed leader's CMD died with it"

wait_for grep -qx addr-b "$tmp/obs"
[ "$(tr '\n' ' ' < "$tmp/obs")" = "addr-a addr-b " ]
ok $? "observe prints the leaders' values in order ($(tr '\n' ' ' < "$tmp/obs"))"

# Lost leadership (broken) ends CMD: SIGTERM, and elect exits 5.
"$dl" break svc
bcmd=$(cat "$tmp/b.pid")
wait_for sh -c "! kill -0 $bcmd"
ok $? "the CMD of a leader that lost leadership is terminated"
wait_for sh -c "! kill -0 $b"
kill -9 "$bcmd" $b 2>/dev/null	# a run that failed: do not wait for ever
wait $b
rc=$?
ok "$([ $rc = 5 ] && echo 0 || echo 1)" "elect whose leadership is broken exits 5 (got $rc)"

wait_for grep -q '"leader":false' "$tmp/obs.json"
ok $? "observe -j reports that nobody leads any more"
kill $obs $obsj
wait $obs $obsj 2>/dev/null
python3 - "$tmp/obs.json" <<'PY'
import json, sys
evs = [json.loads(l) for l in open(sys.argv[1])]
leaders = [e for e in evs if e["leader"]]
assert [e["value"] for e in leaders] == ["addr-a", "addr-b"], evs
assert all(e["name"] == "svc" and e["comm"] == "dlockctl" and e["uid"] == 0
           for e in leaders), evs
assert int(leaders[0]["token"]) < int(leaders[1]["token"]), evs
assert not evs[-1]["leader"], evs
PY
ok $? "observe -j: one line per leader with value, token, process; never a leader without its value"
[ ! -s "$tmp/obs.err" ]
ok $? "observe wrote nothing on stderr ($(cat "$tmp/obs.err"))"

# A value set by plain set-value, without elect, reaches observers: the
# kernel's value event wakes them, not anything the leader does.  Once the
# observer printed plain-0 it is subscribed, so no later change can be
# read by its first look instead of being heard.
"$dl" lock plain --ttl 60s --owner p --value plain-0 >/dev/null
"$dl" observe plain > "$tmp/plain" 2>&1 &
po=$!
wait_for grep -qx plain-0 "$tmp/plain"
"$dl" set-value plain --owner p plain-1
wait_for grep -qx plain-1 "$tmp/plain"
ok $? "observe prints a new value set by set-value ($(tr '\n' ' ' < "$tmp/plain"))"
# A new holder without a value is no leader; its set-value makes it one.
"$dl" unlock plain --owner p
"$dl" lock plain --ttl 60s --owner q >/dev/null
"$dl" set-value plain --owner q plain-2
wait_for grep -qx plain-2 "$tmp/plain"
[ "$(tr '\n' ' ' < "$tmp/plain")" = "plain-0 plain-1 plain-2 " ]
ok $? "and the value set-value gives a new holder ($(tr '\n' ' ' < "$tmp/plain"))"
"$dl" unlock plain --owner q
kill $po
wait $po 2>/dev/null

# A leader with a TTL keeps leading past it: elect renews.
"$dl" elect ttl-svc v --ttl 2s -- sleep 5
ok $? "elect --ttl 2s renews: CMD outlives the TTL and elect exits 0"

# The leader's environment: DLOCK_TOKEN, as with run.
out=$("$dl" elect env-svc v -- sh -c 'echo "$DLOCK_TOKEN"')
[ "$out" -gt 0 ] 2>/dev/null
ok $? "elect passes the fencing token in DLOCK_TOKEN ($out)"
"$dl" elect code-svc v -- sh -c 'exit 7'
ok "$([ $? = 7 ] && echo 0 || echo 1)" "elect exits with CMD's status"

# Another user observes root's leader but not its value.
"$dl" elect hid v-secret -- sleep 600 &
h=$!
wait_for value_is hid v-secret
setpriv --reuid=65534 --regid=65534 --clear-groups --inh-caps=-all \
	--bounding-set=-all "$dl" observe hid > "$tmp/hid" 2>&1 &
u=$!
wait_for grep -q 'uid 0' "$tmp/hid"
ok "$([ $? = 0 ] && ! grep -q v-secret "$tmp/hid" && echo 0 || echo 1)" \
	"another user observes a leader of uid 0 without its value ($(cat "$tmp/hid"))"
kill $u $h
wait $u $h 2>/dev/null

# Usage errors name the problem and exit 2.
out=$("$dl" elect x 2>&1)
ok "$([ $? = 2 ] && grep -q 'missing VALUE' <<<"$out" && echo 0 || echo 1)" "elect without VALUE: $out"
out=$("$dl" elect x v 2>&1)
ok "$([ $? = 2 ] && grep -q 'missing CMD' <<<"$out" && echo 0 || echo 1)" "elect without CMD: $out"
out=$("$dl" elect x v --ttl 5q -- true 2>&1)
ok "$([ $? = 2 ] && grep -q -- "--ttl: '5q'" <<<"$out" && echo 0 || echo 1)" "elect with a bad --ttl: $out"
out=$("$dl" observe 2>&1)
ok "$([ $? = 2 ] && grep -q 'missing lock NAME' <<<"$out" && echo 0 || echo 1)" "observe without NAME: $out"

nothing_left

echo "1..$n"
[ "$failed" = 0 ]
