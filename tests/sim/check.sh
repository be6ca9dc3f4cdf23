#!/usr/bin/env bash
# `make check-sim`: host unit tests of the codec and of the replication core,
# a few thousand simulator seeds, and the mutation check (each planted bug of
# kmod/repl.h REPL_MUT_* must be caught).  One TAP stream on stdout.
set -u
B=${1:-build/sim}
SEEDS=${CHECK_SEEDS:-2000}
MUT_SEEDS=${MUT_SEEDS:-3000}
n=0
fail=0
ok() {	# ok COND DESCRIPTION
	n=$((n + 1))
	if [ "$1" = 0 ]; then echo "ok $n - $2"; else echo "not ok $n - $2"; fail=1; fi
}

for t in test_wire test_repl test_repl_dedup test_repl_life test_repl_sched test_snap; do
	out=$("$B/$t" 2>&1)
	rc=$?
	while IFS= read -r line; do
		case "$line" in
		"ok "*) ok 0 "$t: ${line#*- }" ;;
		"not ok "*) ok 1 "$t: ${line#*- }" ;;
		"1.."*) ;;
		*) echo "# $line" ;;
		esac
	done <<< "$out"
	[ $rc = 0 ] || ok 1 "$t exited with status $rc"
done

out=$("$B/sim" -n "$SEEDS" -q 2>&1)
rc=$?
echo "$out" | grep -v '^#  ' | sed 's/^/# /' | head -40
ok $rc "simulator: $SEEDS seeds of 3/5/7-node clusters, five parameter sets, under faults, 0 violations"

# the real lock table (kmod/table*.c through kmod/table_sm.c) replicating,
# its clients using every feature of it, a specification of the table as the
# oracle of every answer, wait answer and state (issue 13)
out=$("$B/sim" -n "$SEEDS" -q -T 2>&1)
rc=$?
echo "$out" | grep -v '^#  ' | sed 's/^/# /' | head -20
ok $rc "simulator -T: $SEEDS seeds with the lock table replicated, its clients using every feature, the table specification as oracle, 0 violations"

# the same with one bug of the table or its adapter planted (TABLE_SM_MUTATION
# in kmod/table*.c); each binary stops at its first catch, two at a time
tnames=("" "token not from the log" "EXPIRE ignores the lease's stamp" \
	"CLIENT_END leaves the client's leases" \
	"FIFO broken: the second waiter granted first" \
	"a semaphore admits one holder more than its permits" \
	"break leaves the waiter queue ungranted" \
	"a wait's timeout ignores its stamp (ends a re-queued wait)" \
	"release does not decrement the reentrancy count" \
	"a value outlives its lease (moves to another holder)" \
	"a wait's timeout is proposed with a wrong stamp (never applies)" \
	"a snapshot's installer does not settle its clients' waits it skipped" \
	"a stale QUEUED answer (retransmission after the wait ended) trusted" \
	"a SESSION_END ends a live partitioned node's waits unseen" \
	"a wait a SESSION_END grants outlives it (its node's client is gone)" \
	"a snapshot's install restarts the holder's bounds of leases applied before" \
	"a deposed leader keeps its own deadlines as its clients' bounds" \
	"the wait-for graph: a shared holder does not block an exclusive wait" \
	"the wait-for graph: the waiters ahead of a wait not followed")
# 7 stays planted but is not required: its harm needs a new leader that
# inherits a CANCEL and a re-queue with the same cookie it has not applied
# yet (docs/protocol.md section 9).
tmuts=${TMUTS:-"1 2 3 4 5 6 8 9 10 11 12 13 14 15 17 18"}
ttmp=$(mktemp -d)
for m in $tmuts; do echo $m; done |
	xargs -P 2 -I{} sh -c "'$B/sim-tmut{}' -n $MUT_SEEDS -x -q -T > '$ttmp/{}' 2>&1"
for m in $tmuts; do
	caught=$(grep -c '^caught at seed' "$ttmp/$m")
	grep -E '^caught|VIOLATION' "$ttmp/$m" | head -2 | sed 's/^/# /'
	ok "$([ "$caught" -ge 1 ] && echo 0 || echo 1)" \
		"table mutation $m (${tnames[$m]}) caught by sim -T within $MUT_SEEDS seeds"
done
rm -rf "$ttmp"

# plants of the core that only the real table's holder view shows (sim -T)
rtnames=([42]="a follower counts its clients' leases from its own apply" \
	 [43]="a follower's countdown floor taken from any echo, whatever its commit")
rtmuts=${RTMUTS:-"42 43"}
for m in $rtmuts; do
	out=$("$B/sim-mut$m" -n "$MUT_SEEDS" -x -q -T 2>&1)
	caught=$(grep -c '^caught at seed' <<< "$out")
	grep -E '^caught|VIOLATION' <<< "$out" | head -2 | sed 's/^/# /'
	ok "$([ "$caught" -ge 1 ] && echo 0 || echo 1)" \
		"mutation $m (${rtnames[$m]}) caught by sim -T within $MUT_SEEDS seeds"
done

# seeds that once failed (each note says what was wrong); -p 0: the default
# parameter set, so each replays the run that failed
for s in 963 2226 15328 78095 98663; do
	"$B/sim" -n 1 -s $s -p 0 -q > /dev/null 2>&1
	ok $? "simulator regression seed $s"
done
# 963: follower dropped acked entries on snapshot install; 2226: duplicate
# answers multiplied appends; 15328 78095 98663: a node with a non-empty log
# called its world fresh, so a recovering leader started a new world
# The same with the seed's own parameter set (small tables, edge, sticky):
# 500746 501079: a client evicted from the dedup table had a second copy of
# its ACQUIRE run as new (docs/protocol.md R8)
for s in 500746 501079; do
	"$B/sim" -n 1 -s $s -q > /dev/null 2>&1
	ok $? "simulator regression seed $s (its own parameters)"
done
# With the real table (-T): 100047319: a leader whose NODE_START was refused
# for want of room had it due again at once, for ever (a runaway of events:
# in the kernel a timer firing without end)
# 110135512 110137923: a deposed leader that never committed its EPOCH had
# restarted its countdowns and told its own holder nothing, while the next
# leader committed an earlier leader's EXPIRE of the lease
for s in 100047319 110135512 110137923; do
	"$B/sim" -T -n 1 -s $s -q > /dev/null 2>&1
	ok $? "simulator regression seed $s (-T)"
done
# Table plant 16 (a deposed leader keeps its countdowns as its holders'
# bounds) does harm only to a leader deposed after its EPOCH committed
# (fe90afb): first caught at seed 14775, which the clean table passes
"$B/sim" -T -n 1 -s 14775 -q > /dev/null 2>&1
ok $? "simulator regression seed 14775 (-T)"
"$B/sim-tmut16" -T -n 1 -s 14775 -q > /dev/null 2>&1
[ $? != 0 ]
ok $? "table mutation 16 (${tnames[16]}) caught by seed 14775 (-T)"
# plant 52 (countdowns restarted at the election) must fail both
for s in 110135512 110137923; do
	"$B/sim-mut52" -T -n 1 -s $s -q > /dev/null 2>&1
	[ $? != 0 ]
	ok $? "mutation 52 (a new leader's countdowns rule before its EPOCH commits) caught by seed $s (-T)"
done

# Mutation check: every planted bug (kmod/repl.h REPL_MUT_*) must be caught
# within MUT_SEEDS seeds; each binary stops at its first catch.  Two at a
# time (the machine has two cores).
names=("" "commit without a majority" "grant on a follower" \
       "restarted node skips recovery" "no lock-delay after whole restart" \
       "commit index moves back (DL_ASSERT)" \
       "commit of an older term's entry by counting (figure 8)" \
       "vote without the log-up-to-date check" \
       "append accepted from a stale term" \
       "vote of an older term counted" \
       "acknowledgement of an older term counted" \
       "RENEW answered before it is committed" \
       "deposed leader believes its quorum is fresh" \
       "follower expires leases by its own clock" \
       "idempotence keyed by request id only" \
       "dedup eviction picks the most recently used client" \
       "snapshot labelled one entry past its state" \
       "fencing token not from the log position" \
       "recovery trusts a node with entries that calls itself fresh" \
       "catch-up target is the leader's commit, not its last index" \
       "session timeout window without the election bound" \
       "leases of other nodes' clients never expire" \
       "session freshness computed without drift" \
       "commit index not clamped to the entries received" \
       "TTL above the cap accepted" \
       "snapshot install drops acknowledged entries" \
       "follower commits its whole log (apply before commit)" \
       "hold computed without drift (hold = ttl)" \
       "hold 4 ms short" \
       "snapshot install keeps a tail of another history" \
       "a duplicated vote counted again" \
       "leader counts its own acknowledgement twice" \
       "the next request id answered from the dedup cache" \
       "match index kept from an earlier term" \
       "snapshot chunk taken at any offset" \
       "an APPEND of a stale term resets the election timer" \
       "a higher term resets the election timer" \
       "a follower learns a commit only at the next heartbeat" \
       "a refused forward dropped in silence" \
       "the dedup table keyed by client id alone" \
       "a node's new life ends nothing of its earlier lives" \
       "NODE_START sent before the earlier life's datagrams are gone")
names[44]="no leader stickiness: a vote request heard beside a working leader"
names[45]="the dedup table evicts a client that holds or waits for something"
names[46]="a client evicted from the dedup table runs again as new (no floor)"
names[47]="a node's new life keeps its old life's dedup slots (an old id answered from them)"
names[48]="a CLIENT_END refused (-EUSERS) when no slot is free"
names[49]="a request refused -EUSERS runs when a slot frees (no floor)"
names[50]="a RECOVER_REQ addressed to a peer's life that ended (never answered)"
names[51]="a leader fills its whole log uncommitted (no room for a later EPOCH)"
names[52]="a new leader's countdowns rule before its EPOCH commits"
names[53]="a leader's NODE_START refused for want of room stays due at once"
# make check-sim passes MUTS (sim.mk's SIM_MUTS_REQ): 10, 18, 19 and 35 do
# harm only in schedules the random simulator almost never makes; each is
# required of a targeted schedule instead (HOST_MUTS below,
# docs/protocol.md section 7).
muts=${MUTS:-"$(seq 1 35 | grep -vxE '10|18|19|35' | tr '\n' ' ')"}
tmp=$(mktemp -d)
for m in $muts; do echo $m; done |
	xargs -P 2 -I{} sh -c "'$B/sim-mut{}' -n $MUT_SEEDS -x -q > '$tmp/{}' 2>&1"
for m in $muts; do
	caught=$(grep -c '^caught at seed' "$tmp/$m")
	grep -E '^caught|VIOLATION' "$tmp/$m" | head -2 | sed 's/^/# /'
	ok $([ "$caught" = 1 ] && echo 0 || echo 1) \
		"mutation $m (${names[$m]}) caught within $MUT_SEEDS seeds"
done
rm -rf "$tmp"

# Plants caught by a host test instead (sim.mk SIM_HOST_MUTS, plant:test):
# the test built with the plant must report a failed assertion ("not ok")
# and exit non-zero; the same test passes on the clean core above.
for pt in ${HOST_MUTS:-36:test_repl 10:test_repl_sched 18:test_repl_sched 19:test_repl_sched 35:test_repl_sched}; do
	m=${pt%%:*}
	t=${pt#*:}
	out=$("$B/$t-mut$m" 2>&1)
	rc=$?
	first=$(grep -m1 '^not ok' <<< "$out")
	# the first failed assertion and the diagnostic just before it
	awk '/^not ok/ { if (c != "") print "# " c; print "# " $0; exit }
	     /^#/ { c = $0; next } { c = "" }' <<< "$out"
	ok "$([ $rc != 0 ] && [ -n "$first" ] && echo 0 || echo 1)" \
		"mutation $m (${names[$m]}) caught by $t"
done
echo "1..$n"
exit $fail
