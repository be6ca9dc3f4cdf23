#!/usr/bin/env bash
# dlockctl's lock commands against the real module, in the guest.  Prints TAP.
# shellcheck source=tests/selftests/clienv.sh
. "$(dirname "$0")/clienv.sh"
trap 'kill $(jobs -p) 2>/dev/null; rm -rf "$tmp"' EXIT

# expect CODE PATTERN DESC -- ARGS: runs dlockctl, checks exit code and output.
expect() {
	local code=$1 pattern=$2 desc=$3 out rc
	shift 4
	out=$("$dl" "$@" 2>&1)
	rc=$?
	if [ "$rc" = "$code" ] && grep -qE -- "$pattern" <<<"$out"; then
		ok 0 "$desc"
	else
		ok 1 "$desc (exit $rc, want $code; output: ${out//$'\n'/ | })"
	fi
}


# TTLs are long: a loaded host can make a TCG guest very slow.
out=$("$dl" lock db --ttl 60s)
ok $? "lock takes a detached lease"
owner=$(awk '$1 == "owner" {print $2}' <<<"$out")
token=$(awk '$1 == "token" {print $2}' <<<"$out")
[ -n "$owner" ] && [ "$token" -gt 0 ] 2>/dev/null
ok $? "lock prints owner and token ($owner, $token)"

expect 4 'lock is held' "a second lock --try exits 4 and says the lock is held" -- lock db --ttl 1s --try
expect 4 'timed out waiting' "lock --wait 300ms on a held lock exits 4 after the wait" -- lock db --ttl 1s --wait 300ms

out=$("$dl" -j get db)
json "$out" "h=d['holders'][0]; assert d['name']=='db' and h['owner']=='$owner' and h['token']=='$token' and 0 < h['remaining_ms'] <= 60000 and h['count']==1 and h['comm']=='dlockctl', d"
ok $? "get -j shows the holder, its token, count, TTL and process"

expect 0 "^db: exclusive, 1 holder, 0 waiters" "get shows the lock in text" -- get db
expect 0 '"name":"db"' "list -j includes the lock" -- -j list d
expect 0 '^\[\]$' "list -j with a prefix nobody uses is empty" -- -j list nomatch

"$dl" renew db --owner "$owner" --ttl 120s
ok $? "renew by the owner succeeds"
out=$("$dl" -j get db)
json "$out" "assert d['holders'][0]['remaining_ms'] > 60000, d"
ok $? "renew extended the TTL"

expect 0 '' "set-value by the owner succeeds" -- set-value db --owner "$owner" "primary=10.0.0.1"
expect 0 'value primary=10.0.0.1' "get shows the value" -- get db
expect 1 'not held by this owner' "unlock with the wrong owner fails and says why" -- unlock db --owner someone-else
expect 0 '' "unlock with the owner succeeds" -- unlock db --owner "$owner"
expect 1 'no such lock' "get of a released lock fails: no such lock" -- get db

# Reentrancy through a chosen owner string: same token, count 2.
t1=$("$dl" -j lock re --ttl 10s --owner job-1)
t2=$("$dl" -j lock re --ttl 10s --owner job-1)
json "$t2" "import json as j; a=j.loads('''$t1'''); assert d['token']==a['token'] and d['count']==2, (a, d)"
ok $? "lock again with the same owner is reentrant: same token, count 2"
# Leave nothing behind: dlock will not unload while a lease exists.
"$dl" unlock re --owner job-1 && "$dl" unlock re --owner job-1

# run: token in the environment, CMD's status passed through.
out=$("$dl" run r1 -- sh -c 'echo "token=$DLOCK_TOKEN"')
grep -qE '^token=[0-9]+$' <<<"$out"
ok $? "run passes DLOCK_TOKEN to CMD ($out)"
"$dl" run r1 -- sh -c 'exit 7'
ok $([ $? = 7 ] && echo 0 || echo 1) "run exits with CMD's status"

"$dl" run r2 -- sleep 3 &
wait_for "$dl" get r2
expect 4 'lock is held' "the lock is held while run's CMD runs" -- lock r2 --ttl 1s --try
wait
out=$("$dl" lock r2 --ttl 1s --try)
ok $? "the lock is free once CMD ended"
"$dl" unlock r2 --owner "$(awk '$1 == "owner" {print $2}' <<<"$out")"

# Leader election: the standby waits until the leader ends.
"$dl" run elect -- sh -c "echo leader1 >> $tmp/elect; sleep 2; echo end1 >> $tmp/elect" &
wait_for "$dl" get elect
"$dl" run elect --wait 0 -- sh -c "echo leader2 >> $tmp/elect" &
wait
[ "$(tr '\n' ' ' < "$tmp/elect")" = "leader1 end1 leader2 " ]
ok $? "run --wait takes over only after the leader ended ($(tr '\n' ' ' < "$tmp/elect"))"

# A broken lease ends CMD at once and run exits 5.
"$dl" run brk --grace 1s -- sleep 60 &
runpid=$!
wait_for "$dl" get brk
"$dl" break brk
ok $? "break succeeds for root"
start=$(date +%s)
wait $runpid
rc=$?
ok $([ $rc = 5 ] && [ $(($(date +%s) - start)) -lt 10 ] && echo 0 || echo 1) "run whose lease is broken terminates CMD and exits 5 (got $rc)"
pgrep -f '^sleep 60$' >/dev/null
ok $([ $? != 0 ] && echo 0 || echo 1) "the terminated CMD is gone"

# kill -9 of run: the kernel frees the lock and CMD dies with it.
"$dl" run k9 -- sleep 61 &
runpid=$!
wait_for "$dl" get k9
kill -9 $runpid
wait $runpid 2>/dev/null
wait_for sh -c "! '$dl' get k9"
ok $? "kill -9 of run frees the lock"
wait_for sh -c "! pgrep -f '^sleep 61$'"
ok $? "kill -9 of run takes CMD with it"

# A signal interrupts a blocking wait and withdraws it.
"$dl" lock hold --ttl 120s --owner holder >/dev/null
"$dl" lock hold --ttl 1s --wait 0 >/dev/null 2>"$tmp/waiter.err" &
waiter=$!
wait_for sh -c "'$dl' -j get hold | grep -q '\"waiters\":\[{'"
ok $? "the blocked lock shows as a waiter"
# SIGTERM, not SIGINT: a background job of a script ignores SIGINT.
kill -TERM $waiter
wait $waiter
rc=$?
out=$("$dl" -j get hold)
json "$out" "assert d['waiters'] == [] and d['holders'][0]['owner'] == 'holder', d"
ok $([ $? = 0 ] && [ $rc = 143 ] && grep -q 'wait was withdrawn' "$tmp/waiter.err" && echo 0 || echo 1) \
	"SIGTERM ends the wait at once (exit $rc: $(cat "$tmp/waiter.err")) and leaves no waiter behind"
"$dl" unlock hold --owner holder

# watch sees grants and releases.
"$dl" -j watch ev- > "$tmp/watch" &
watcher=$!
sleep 0.5
o=$("$dl" -j lock ev-1 --ttl 60s)
"$dl" unlock ev-1 --owner "$(json "$o" "print(d['owner'])")"
"$dl" lock other --ttl 5s --owner other >/dev/null
wait_for grep -q released "$tmp/watch"
kill $watcher
"$dl" unlock other --owner other
python3 - "$tmp/watch" <<'PY'
import json, sys
evs = [json.loads(l) for l in open(sys.argv[1])]
kinds = [(e["event"], e["name"]) for e in evs]
assert kinds == [("granted", "ev-1"), ("released", "ev-1")], kinds
PY
ok $? "watch -j with a prefix sees exactly the granted and released events of its locks"

# Per-namespace limits, in a namespace of their own.
ip netns add cfgtest
expect 0 'max-socket-waiters: 10000' "config shows the defaults" -- config
out=$(ip netns exec cfgtest "$dl" -j config set --max-socket-leases 1 --max-ttl 4s)
json "$out" "assert d['max_socket_leases'] == 1 and d['max_ttl_ms'] == 4000, d"
ok $? "config set changes only what it names and prints the limits in force"
out=$(ip netns exec cfgtest "$dl" -j lock capped --ttl 60s)
json "$out" "assert d['ttl_ms'] == 4000, d"
ok $? "a TTL above the namespace's cap is cut to the cap, and lock says so"
ip netns exec cfgtest "$dl" unlock capped --owner "$(json "$out" "print(d['owner'])")"
# run renews by the TTL granted, not the one asked for: it outlives the cap.
ip netns exec cfgtest "$dl" run capped-run --ttl 60s -- sleep 6
ok $? "run with a TTL above the cap keeps its lease by renewing at the cap"
expect 0 'max-socket-waiters: 10000' "the other namespace kept its limits" -- config
out=$(ip netns exec cfgtest setpriv --reuid=65534 --regid=65534 --clear-groups \
	--inh-caps=-all --bounding-set=-all "$dl" config set --max-leases 5 2>&1)
rc=$?
ok $([ $rc = 1 ] && grep -q 'not permitted' <<<"$out" && echo 0 || echo 1) "config set without CAP_NET_ADMIN fails: $out"
ip netns del cfgtest

# Usage errors name the problem and exit 2.
expect 2 -- '--ttl is required' "lock without --ttl is a usage error" -- lock x
expect 2 "'abc' is not a duration" "a bad duration is named" -- lock x --ttl abc
expect 2 'exclude each other' "--try with --wait is a usage error" -- lock x --ttl 1s --try --wait 5
expect 2 'at most 255' "a name over 255 bytes is refused" -- lock "$(printf 'x%.0s' $(seq 256))" --ttl 1s
expect 2 "unknown option '--bogus'" "an unknown option is named" -- get x --bogus
expect 2 -- '--owner is required' "unlock without --owner is a usage error" -- unlock x
expect 2 'missing CMD' "run without CMD is a usage error" -- run x

out=$("$dl" -j status)
json "$out" "assert d['waiters'] == 0, d"
ok $? "no waiter is left behind"
# Every lease taken was released: dlock refuses to unload while one exists.
json "$out" "assert d['leases'] == 0, d"
ok $? "no lease is left behind ($out)"

echo "1..$n"
[ "$failed" = 0 ]
