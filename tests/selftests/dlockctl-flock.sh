#!/usr/bin/env bash
# dlockctl's conventions from flock(1), timeout(1) and etcdctl, in the
# guest: durations in seconds with units and fractions, a TTL cut to the
# namespace's cap said on stderr, run's -n, -w, -E and -v.  Prints TAP.
# shellcheck source=tests/selftests/clienv.sh
. "$(dirname "$0")/clienv.sh"
ns=dlflock$$
trap 'kill $(jobs -p) 2>/dev/null; ip netns del $ns 2>/dev/null; rm -rf "$tmp"' EXIT

# Durations: the TTL granted shows what was parsed.
ttl_of() { json "$1" "print(d['ttl_ms'])"; }
for spec in "1.5:1500" "0.25:250" "250ms:250" "2m:120000" "90:90000" "1h:3600000"; do
	out=$("$dl" -j lock dur --ttl "${spec%%:*}" --owner d)
	got=$(ttl_of "$out")
	ok "$([ "$got" = "${spec#*:}" ] && echo 0 || echo 1)" "--ttl ${spec%%:*} is ${spec#*:} ms (got $got)"
	# The short ones may have expired already on a slow guest.
	"$dl" unlock dur --owner d 2>/dev/null
done

"$dl" lock dur --ttl 10 --owner d >/dev/null
"$dl" renew dur --owner d --ttl 90
out=$("$dl" -j get dur)
json "$out" "assert 60000 < d['holders'][0]['remaining_ms'] <= 90000, d"
ok $? "renew --ttl 90 restarts the TTL at 90 seconds"
out=$("$dl" lock dur --ttl 1 --wait 0.5 2>&1)
rc=$?
ok "$([ $rc = 4 ] && grep -q 'timed out' <<<"$out" && echo 0 || echo 1)" "--wait 0.5 on a held lock times out: exit $rc, $out"
"$dl" unlock dur --owner d

# A TTL above the namespace's cap is cut, and dlockctl says so.
ip netns add $ns
nsx() { ip netns exec $ns "$@"; }
# (A cap of minutes: a loaded host makes the guest slow.)
out=$(nsx "$dl" config set --max-ttl 300)
grep -qx 'max-ttl: 300000ms' <<<"$out"
ok $? "config set --max-ttl 300 is 300 seconds ($(head -1 <<<"$out"))"
nsx "$dl" -j lock cut --ttl 600 --owner c > "$tmp/cut" 2>"$tmp/cut.err"
rc=$?
ok "$([ $rc = 0 ] && [ "$(ttl_of "$(cat "$tmp/cut")")" = 300000 ] && echo 0 || echo 1)" "lock --ttl 600 above the cap is granted 300 s"
grep -qx 'dlockctl: cut: TTL cut to 5m, this namespace.s cap (asked for 10m)' "$tmp/cut.err"
ok $? "lock says on stderr that the TTL was cut ($(cat "$tmp/cut.err"))"
out=$(nsx "$dl" renew cut --owner c --ttl 2h 2>&1)
ok "$([ $? = 0 ] && grep -q 'TTL cut to 5m.*asked for 2h' <<<"$out" && echo 0 || echo 1)" "renew says so too ($out)"
out=$(nsx "$dl" renew cut --owner c --ttl 299 2>&1)
ok "$([ $? = 0 ] && [ -z "$out" ] && echo 0 || echo 1)" "a TTL within the cap is not reported ($out)"
nsx "$dl" unlock cut --owner c
out=$(nsx "$dl" run cut-run --ttl 1h -- true 2>&1)
ok "$([ $? = 0 ] && grep -q 'cut-run: TTL cut to 5m' <<<"$out" && echo 0 || echo 1)" "run says so too ($out)"
out=$(nsx "$dl" elect cut-elect v --ttl 1h -- true 2>&1)
ok "$([ $? = 0 ] && grep -q 'cut-elect: TTL cut to 5m' <<<"$out" && echo 0 || echo 1)" "elect says so too ($out)"
ip netns del $ns

# run as flock(1): -n, -w SECONDS, -E CODE.
"$dl" run fl -- sleep 600 &
holder=$!
wait_for "$dl" get fl
out=$("$dl" run fl -n -- echo never 2>&1)
rc=$?
ok "$([ $rc = 4 ] && grep -q 'lock is held' <<<"$out" && echo 0 || echo 1)" "run -n on a held lock exits 4 (got $rc: $out)"
"$dl" run fl -n -E 0 -- echo never >/dev/null 2>&1
ok $? "run -n -E 0 exits 0 on a held lock"
"$dl" run fl -E 42 --try -- echo never 2>/dev/null
rc=$?
ok "$([ $rc = 42 ] && echo 0 || echo 1)" "run -E 42 --try exits 42 on a held lock (got $rc)"
out=$("$dl" run fl -w 0.3 -E 3 -- echo never 2>&1)
rc=$?
ok "$([ $rc = 3 ] && grep -q 'timed out' <<<"$out" && echo 0 || echo 1)" "run -w 0.3 -E 3 waits, times out and exits 3 (got $rc: $out)"
out=$("$dl" run fl -w 0 -- echo never 2>&1)
rc=$?
ok "$([ $rc = 4 ] && grep -q 'lock is held' <<<"$out" && echo 0 || echo 1)" "run -w 0 does not wait, as in flock(1) (got $rc: $out)"
out=$("$dl" run free -n -E 9 -- echo ran)
ok "$([ $? = 0 ] && [ "$out" = ran ] && echo 0 || echo 1)" "-E does not change the exit of a run that got the lock"

# -v: whom the wait is queued behind.
"$dl" run fl --wait 0 -- true 2>/dev/null &
waiter=$!
wait_for sh -c "'$dl' -j get fl | grep -q '\"waiters\":\[{'"
out=$("$dl" run fl -v -w 0.3 -- echo never 2>&1)
rc=$?
grep -q "fl: queued behind a holder: pid $holder (dlockctl) uid 0\$" <<<"$out" &&
	grep -q "fl: queued behind a waiter: pid $waiter (dlockctl) uid 0\$" <<<"$out"
ok "$([ $? = 0 ] && [ $rc = 4 ] && echo 0 || echo 1)" "run -v names the holder and the waiter ahead (exit $rc: ${out//$'\n'/ | })"
out=$(setpriv --reuid=65534 --regid=65534 --clear-groups --inh-caps=-all \
	--bounding-set=-all "$dl" run fl -v -w 0.3 -- echo never 2>&1)
grep -q "fl: queued behind a holder of uid 0 (another user's: its process is not shown)" <<<"$out" &&
	! grep -q "pid $holder" <<<"$out"
ok $? "run -v as another user says the holder is hidden (${out//$'\n'/ | })"
kill $holder
wait $holder $waiter 2>/dev/null
out=$("$dl" run fl -v -- true 2>&1)
ok "$([ $? = 0 ] && grep -q 'fl: granted, token [0-9]' <<<"$out" && ! grep -q queued <<<"$out" && echo 0 || echo 1)" \
	"run -v on a free lock says it was granted and queued behind nobody ($out)"
out=$("$dl" lock vl --ttl 5 --owner v -v 2>&1 >/dev/null)
ok "$([ $? = 0 ] && grep -q 'vl: granted' <<<"$out" && echo 0 || echo 1)" "lock -v says it was granted ($out)"
"$dl" unlock vl --owner v

nothing_left

echo "1..$n"
[ "$failed" = 0 ]
