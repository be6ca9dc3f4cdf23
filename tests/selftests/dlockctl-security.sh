#!/usr/bin/env bash
# dlockctl between users (issue 8), in the guest: what another uid sees of
# root's leases in get, list and watch ("uid N", no owner), what it may not
# do to them, and the per-user limits in config.  Prints TAP.
# shellcheck source=tests/selftests/clienv.sh
. "$(dirname "$0")/clienv.sh"
ns=dlsec$$
trap 'kill $(jobs -p) 2>/dev/null; ip netns del $ns 2>/dev/null; rm -rf "$tmp"' EXIT



# Everything in a namespace of its own: its own table and limits.
ip netns add $ns
run() { ip netns exec $ns "$@"; }
# as_user dlockctl ARGS...: as uid 1000 without any capability, in $ns.
as_user() {
	shift
	ip netns exec $ns setpriv --reuid=1000 --regid=1000 --clear-groups \
		--inh-caps=-all --bounding-set=-all "$dl" "$@"
}

run "$dl" -j watch sec- > "$tmp/root-watch" &
as_user dlockctl -j watch sec- > "$tmp/user-watch" &
# Both watchers listen once they hear a probe lock.
run "$dl" lock sec-probe --ttl 60s --owner probe >/dev/null
wait_for grep -q sec-probe "$tmp/user-watch"
wait_for grep -q sec-probe "$tmp/root-watch"
run "$dl" unlock sec-probe --owner probe
run "$dl" lock sec-a --ttl 60s --owner root-secret --value hush >/dev/null
ok $? "root takes a detached lease"

out=$(as_user dlockctl get sec-a 2>&1)
grep -q 'holder exclusive token [0-9]* count 1 uid 0 ttl' <<<"$out" &&
	! grep -q 'root-secret\|hush\|pid' <<<"$out"
ok $? "get as another uid shows 'uid 0', not the owner, value or pid: ${out//$'\n'/ | }"

out=$(as_user dlockctl -j list sec-)
json "$out" "h = d[0]['holders'][0]; assert h['uid'] == 0 and h['hidden'] is True and 'owner' not in h and 'value' not in h and 'pid' not in h, h"
ok $? "list -j as another uid: uid and hidden, no owner"

out=$(run "$dl" get sec-a)
grep -q 'owner root-secret' <<<"$out" && grep -q 'value hush' <<<"$out"
ok $? "root sees its own lease in full"

out=$(as_user dlockctl unlock sec-a --owner root-secret 2>&1)
rc=$?
[ $rc = 1 ] && grep -q 'sec-a: lease belongs to another user' <<<"$out"
ok $? "unlock of root's lease by another uid fails, exit 1: $out"
out=$(as_user dlockctl renew sec-a --owner root-secret --ttl 5s 2>&1)
[ $? = 1 ] && grep -q 'lease belongs to another user' <<<"$out"
ok $? "renew too: $out"
run "$dl" unlock sec-a --owner root-secret
ok $? "root unlocks its lease"

wait_for grep -q 'released.*sec-a\|sec-a.*released' "$tmp/user-watch"
wait_for grep -q 'released.*sec-a\|sec-a.*released' "$tmp/root-watch"
python3 - "$tmp/user-watch" "$tmp/root-watch" <<'PY'
import json, sys
user = [e for e in map(json.loads, open(sys.argv[1])) if e["name"] == "sec-a"]
root = [e for e in map(json.loads, open(sys.argv[2])) if e["name"] == "sec-a"]
assert [e["event"] for e in user] == ["granted", "value", "released"], user
assert all(e["uid"] == 0 and e.get("hidden") and "owner" not in e for e in user), user
assert all(e["uid"] == 0 and e["owner"] == "root-secret" for e in root), root
assert [e["event"] for e in root] == ["granted", "value", "released"], root
assert not any("hush" in json.dumps(e) for e in user + root), user + root
PY
ok $? "watch: another uid hears 'uid 0' without owner, of the value event too; root hears the owner"

out=$(run "$dl" config)
grep -q '^max-user-leases: auto (250000 now)$' <<<"$out" &&
	grep -q '^max-user-waiters: auto (62500 now)$' <<<"$out" &&
	grep -q '^max-user-value-bytes: auto (16000000 now)$' <<<"$out"
ok $? "config shows the per-user defaults and what they are now: ${out//$'\n'/ | }"
out=$(run "$dl" -j config set --max-user-leases 2 --max-user-value-bytes 0)
json "$out" "assert d['max_user_leases'] == 2 and d['user_leases'] == 2 and d['max_user_value_bytes'] == 0 and d['max_user_waiters'] == 4294967295, d"
ok $? "config set --max-user-leases and --max-user-value-bytes, the rest kept"
as_user dlockctl lock sec-1 --ttl 60s --owner u >/dev/null &&
	as_user dlockctl lock sec-2 --ttl 60s --owner u >/dev/null
out=$(as_user dlockctl lock sec-3 --ttl 60s --owner u 2>&1)
rc=$?
[ $rc = 1 ] && grep -q 'sec-3: user limit of leases reached' <<<"$out"
ok $? "a uid's third lease over a limit of 2 fails, exit 1: $out"
run "$dl" lock sec-4 --ttl 60s --owner r >/dev/null
ok $? "root is not held to the user limit"
as_user dlockctl unlock sec-1 --owner u && as_user dlockctl unlock sec-2 --owner u &&
	run "$dl" unlock sec-4 --owner r
ok $? "the leases are released"
out=$(run "$dl" config set --max-user-waiters auto)
grep -q '^max-user-waiters: auto (62500 now)$' <<<"$out"
ok $? "config set --max-user-waiters auto"
out=$("$dl" config set --max-user-leases -1 2>&1)
[ $? = 2 ] && grep -q "is not a number\|too large" <<<"$out"
ok $? "a bad per-user limit is a usage error: $out"

echo "1..$n"
[ "$failed" = 0 ]
