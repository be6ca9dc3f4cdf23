#!/usr/bin/env bash
# dlock's tracepoints, counters and metrics, in the guest: one of each lease
# and wait outcome through dlockctl, each traced once through tracefs with
# its fields, the status counters moved by exactly as much, `metrics` read
# by the Prometheus client's parser, and the tracepoints used from perf and
# by docs/observability.md's bpftrace one-liner.  Prints TAP.
set -u
: "${DLOCKCTL:?path of the dlockctl binary}"
# shellcheck source=tests/tap.sh
. "$(dirname "$0")/../tap.sh"
dl=$DLOCKCTL
tmp=$(mktemp -d)
tracing=/sys/kernel/tracing
inst=$tracing/instances/dlock-trace-test

cleanup() {
	[ -d "$inst" ] && { echo 0 > "$inst/events/dlock/enable"; rmdir "$inst"; }
	rm -rf "$tmp"
}
trap cleanup EXIT

[ -d "$tracing/events" ] || mount -t tracefs nodev "$tracing"
ok $? "tracefs is mounted at $tracing"
# A trace instance of our own: a buffer nobody else writes to or clears.
rmdir "$inst" 2>/dev/null
mkdir "$inst" && [ -d "$inst/events/dlock" ]
ok $? "tracefs has events/dlock/ ($(ls "$tracing/events/dlock" 2>/dev/null | tr '\n' ' '))"
events="dlock_grant dlock_release dlock_owner_died dlock_expire dlock_break dlock_wait dlock_wait_timeout dlock_deadlock"
missing=""
for e in $events; do
	[ -f "$inst/events/dlock/$e/format" ] || missing="$missing $e"
done
ok "$([ -z "$missing" ] && echo 0 || echo 1)" "every dlock event has a format (missing:${missing:- none})"
echo 1 > "$inst/events/dlock/enable"

netns=$(stat -L -c %i /proc/self/ns/net)
status_before=$("$dl" -j status)

# lock NAME OWNER ARGS...: a detached lease in the background, so that its
# pid is known; sets $pid, $rc and $token.
lock() {
	local name=$1 owner=$2
	shift 2
	"$dl" lock "$name" --owner "$owner" "$@" > "$tmp/out" 2>&1 &
	pid=$!
	wait $pid
	rc=$?
	token=$(sed -n 's/^token //p' "$tmp/out")
}
# as UID CMD...: CMD under another uid, in the background; sets $pid, $rc.
as() {
	local uid=$1
	shift
	setpriv --reuid="$uid" --regid="$uid" --clear-groups "$@" > "$tmp/out" 2>&1 &
	pid=$!
	wait $pid
	rc=$?
}

# grant and release, by uid 4321
as 4321 "$dl" lock t-a --ttl 60s --owner o1
a_pid=$pid a_token=$(sed -n 's/^token //p' "$tmp/out")
as 4321 "$dl" unlock t-a --owner o1
a_upid=$pid
# expire
lock t-exp o2 --ttl 300ms
exp_token=$token
wait_for sh -c "[ \"\$(\"$dl\" -j list t-exp)\" = '[]' ]"
ok $? "t-exp expired (300 ms TTL)"
# a wait that times out, then a break
lock t-b o3 --ttl 60s
b_token=$token
lock t-b o4 --ttl 10s --wait 300ms
ok "$([ $rc = 4 ] && echo 0 || echo 1)" "a wait of 300 ms on a held lock times out (exit $rc)"
w_pid=$pid
"$dl" break t-b
ok $? "break t-b"
# a deadlock: o5 holds t-x and waits for t-y, which o6 holds; o6 asks t-x
lock t-x o5 --ttl 60s
lock t-y o6 --ttl 60s
"$dl" lock t-y --owner o5 --ttl 60s --wait 60s > /dev/null 2>&1 &
waiter=$!
wait_for sh -c "\"$dl\" -j get t-y | grep -q '\"waiters\":\[{'"
ok $? "o5 waits for t-y"
lock t-x o6 --ttl 60s --wait 60s
dl_pid=$pid
ok "$([ $rc = 1 ] && grep -qi deadlock "$tmp/out" && echo 0 || echo 1)" \
	"o6 asking for t-x is refused as a deadlock: $(cat "$tmp/out")"
kill -TERM $waiter
wait $waiter
"$dl" unlock t-x --owner o5 && "$dl" unlock t-y --owner o6
ok $? "t-x and t-y released"
# a wait granted by another owner's release
lock t-g o7 --ttl 60s
"$dl" lock t-g --owner o8 --ttl 60s --wait 60s > "$tmp/g.out" 2>&1 &
g_pid=$!
wait_for sh -c "\"$dl\" -j get t-g | grep -q '\"waiters\":\[{'"
ok $? "o8 waits for t-g"
"$dl" unlock t-g --owner o7
wait $g_pid
ok $? "o8 is granted t-g when o7 releases it"
g_token=$(sed -n 's/^token //p' "$tmp/g.out")
"$dl" unlock t-g --owner o8
# owner death: the socket of `run` closes when dlockctl is killed
"$dl" run t-c -- sleep 60 &
run_pid=$!
wait_for sh -c "[ \"\$(\"$dl\" -j list t-c)\" != '[]' ]"
ok $? "run holds t-c"
kill -KILL $run_pid
wait $run_pid 2>/dev/null
wait_for sh -c "[ \"\$(\"$dl\" -j list t-c)\" = '[]' ]"
ok $? "t-c is free once run's socket closed"

status_after=$("$dl" -j status)
echo 0 > "$inst/events/dlock/enable"
cp "$inst/trace" "$tmp/trace"

# line EVENT NAME: the trace lines of EVENT on lock NAME (a regex: "NAME
# .*owner=O" picks one owner's).
line() {
	grep " $1: netns=$netns name=$2 " "$tmp/trace"
}
count() {
	grep -c " $1: netns=$netns name=$2 " "$tmp/trace"
}
# field LINE KEY: the value of KEY=... in LINE.
field() {
	sed -n "s/.* $2=\([^ ]*\).*/\1/p" <<<"$1"
}
# expect EVENT NAME DESC KEY=VALUE...: the event was traced exactly once,
# with these fields.
expect() {
	local ev=$1 name=$2 desc=$3 l bad="" kv
	shift 3
	l=$(line "$ev" "$name")
	for kv in "$@"; do
		[ "$(field "$l" "${kv%%=*}")" = "${kv#*=}" ] ||
			bad="$bad ${kv%%=*}=$(field "$l" "${kv%%=*}") (want ${kv#*=})"
	done
	ok "$([ "$(count "$ev" "$name")" = 1 ] && [ -z "$bad" ] && echo 0 || echo 1)" \
		"$ev $desc${bad:+:$bad}${l:+ [${l##*: }]}"
}

expect dlock_grant t-a "by uid 4321 with owner, token and pid" mode=exclusive \
	token="$a_token" session=0 owner=o1 uid=4321 pid="$a_pid"
expect dlock_release t-a "by its owner's unlock" token="$a_token" owner=o1 \
	uid=4321 pid="$a_upid"
expect dlock_expire t-exp "after the TTL, no process behind it" \
	token="$exp_token" owner=o2 uid=0 pid=0
expect dlock_wait t-b "queued with its limit" owner=o4 wait_ms=300 \
	pid="$w_pid" why=\"queued\"
wl=$(line dlock_wait t-b)
expect dlock_wait_timeout t-b "names the same wait" \
	session="$(field "$wl" session)" cookie="$(field "$wl" cookie)"
ok "$([ "$(field "$wl" session)" != 0 ] && echo 0 || echo 1)" \
	"a detached owner's wait carries its socket's session"
expect dlock_break t-b "of o3's lease" token="$b_token" owner=o3 pid=0
expect dlock_deadlock t-x "for o6, by the refused process" owner=o6 \
	pid="$dl_pid" mode=exclusive
dlk=$(line dlock_deadlock t-x)
ok "$(grep -q 'why="waiting would deadlock' <<<"$dlk" && echo 0 || echo 1)" \
	"dlock_deadlock says why: ${dlk##*why=}"
gl=$(line dlock_grant t-c)
expect dlock_grant t-c "socket-bound, to run's process" owner= pid="$run_pid"
expect dlock_owner_died t-c "when run's socket closed" owner= \
	session="$(field "$gl" session)" token="$(field "$gl" token)"
ok "$([ "$(field "$gl" session)" != 0 ] && echo 0 || echo 1)" \
	"a socket-bound grant carries its session ($(field "$gl" session))"
expect dlock_grant "t-g .*owner=o8" "to o8 from the queue, by o7's release: pid unknown" \
	owner=o8 token="$g_token" pid=0
ok "$([ "$(count dlock_grant t-g)" = 2 ] && [ "$(count dlock_release t-g)" = 2 ] &&
	[ "$(count dlock_wait t-g)" = 1 ] && [ "$(count dlock_wait_timeout t-g)" = 0 ] &&
	echo 0 || echo 1)" "t-g: two grants, two releases, one wait, no timeout traced"
expect dlock_grant t-y "to o6, not to o5 whose wait was withdrawn" owner=o6
ok "$([ "$(count dlock_release t-x)" = 1 ] && [ "$(count dlock_release t-y)" = 1 ] &&
	[ "$(count dlock_wait t-y)" = 1 ] && echo 0 || echo 1)" \
	"the deadlock scenario's releases and o5's wait were traced once each"

# Every outcome moved its counter by exactly what was done above.
python3 - "$status_before" "$status_after" <<'EOF'
import json, sys
b, a = (json.loads(s)["counters"] for s in sys.argv[1:3])
want = dict(grants=8, releases=5, owner_died=1, expired=1, breaks=1,
            waits=3, wait_timeouts=1, deadlocks=1)
got = {k: a[k] - b[k] for k in a}
print("# counter deltas", got)
sys.exit(0 if got == want else 1)
EOF
ok $? "status counters moved by exactly the operations done"
json "$status_after" "assert d['locks'] == 0 and d['leases'] == 0 and d['waiters'] == 0, d"
ok $? "status: no lock, lease or waiter is left"
out=$("$dl" status)
ok "$(grep -qx 'grants: [0-9]*' <<<"$out" && grep -qx 'deadlocks: [0-9]*' <<<"$out" &&
	grep -qx 'locks: 0' <<<"$out" && echo 0 || echo 1)" "status text shows locks and counters"

# metrics: the exposition format, with the status's values
"$dl" metrics > "$tmp/metrics"
rc=$?
/usr/bin/python3 - "$tmp/metrics" "$status_after" <<'EOF'
import json, sys
from prometheus_client.parser import text_string_to_metric_families
fams = {f.name: f for f in text_string_to_metric_families(open(sys.argv[1]).read())}
st = json.loads(sys.argv[2])
c = st["counters"]
# The parser strips _total from a counter family's name.
checks = {"dlock_grants": c["grants"], "dlock_deadlocks": c["deadlocks"],
          "dlock_wait_timeouts": c["wait_timeouts"], "dlock_leases": 0,
          "dlock_locks": 0}
for name, v in checks.items():
    f = fams[name]
    assert f.samples[0].value == v, (name, f.samples, v)
assert fams["dlock_grants"].type == "counter"
assert fams["dlock_leases"].type == "gauge"
assert fams["dlock_info"].samples[0].labels["version"] == st["version"]
EOF
py=$?
ok "$([ $rc = 0 ] && [ $py = 0 ] && echo 0 || echo 1)" "metrics exits 0 and parses with the status's values"

# perf sees the events and records one
n_perf=$(perf list 'dlock:*' 2>/dev/null | grep -c 'dlock:dlock_.*Tracepoint event')
ok "$([ "$n_perf" = 8 ] && echo 0 || echo 1)" "perf list 'dlock:*' lists the 8 tracepoints ($n_perf)"
# perf counts them for a command (perf record -a does not finish under
# the emulated guest's clock, so a count is what this checks).  System-wide
# (-a): per-task counting would switch on perf's scheduler hooks, patching
# __schedule under the other vCPU's feet (tests/vm/README.md); nothing
# else takes locks while this runs.
timeout 120 perf stat -a -x, -e dlock:dlock_grant -e dlock:dlock_release -- \
	sh -c "\"$dl\" lock t-p --ttl 60s --owner op > /dev/null && \"$dl\" unlock t-p --owner op" \
	> "$tmp/perf.log" 2>&1
rc=$?
ok "$([ $rc = 0 ] && grep -q '^1,,dlock:dlock_grant' "$tmp/perf.log" &&
	grep -q '^1,,dlock:dlock_release' "$tmp/perf.log" && echo 0 || echo 1)" \
	"perf stat counts one grant and one release (rc $rc)$(sed 's/^/ | /' "$tmp/perf.log" | head -3 | tr '\n' ' ')"

# docs/observability.md's hold-time histogram, on one lease.  A kernel
# without the bpf() syscall (the debug lane's) runs no bpftrace program at
# all: probed with one that uses a map and no dlock event, it is a skip.
prog=$(sed -n "s/^bpftrace -e '\(tracepoint:dlock:dlock_grant .*hist.*\)'$/\1/p" docs/observability.md)
if probe=$(timeout 300 bpftrace -e 'BEGIN { @x = 1; exit(); }' 2>&1) ||
	! grep -q 'Function not implemented' <<<"$probe"; then
	timeout 300 bpftrace -e "$prog" -c "$dl run t-h -- sleep 0.2" > "$tmp/bt.txt" 2>&1
	rc=$?
	samples=$(awk '/^\[/ { sum += $(NF - 1) } END { print sum + 0 }' "$tmp/bt.txt")
	ok "$([ $rc = 0 ] && grep -q '^@hold_us:' "$tmp/bt.txt" && [ "$samples" = 1 ] && echo 0 || echo 1)" \
		"the docs' bpftrace one-liner prints a histogram of the one lease (rc $rc, $samples samples)$(grep -v '^\[\|^$' "$tmp/bt.txt" | head -3 | sed 's/^/ | /')"
else
	ok 0 "the docs' bpftrace one-liner # SKIP this kernel has no bpf() syscall: $(head -2 <<<"$probe" | tr '\n' ' ')"
fi

echo "1..$n"
[ "$failed" = 0 ]
