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

for t in test_wire test_repl test_snap; do
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
ok $rc "simulator: $SEEDS seeds of 3/5-node clusters under faults, 0 violations"

# the real lock table (kmod/table*.c through kmod/table_sm.c) replicating,
# the lock model beside it as the oracle of every answer (issue 13)
out=$("$B/sim" -n "$SEEDS" -q -T 2>&1)
rc=$?
echo "$out" | grep -v '^#  ' | sed 's/^/# /' | head -20
ok $rc "simulator -T: $SEEDS seeds with the lock table replicated, the model as its oracle, 0 violations"

# the same with one bug of the table adapter planted (TABLE_SM_MUTATION)
tnames=("" "token not from the log" "EXPIRE ignores the lease's stamp")
for m in 1 2; do
	out=$("$B/sim-tmut$m" -n "$MUT_SEEDS" -x -q -T 2>&1)
	caught=$(echo "$out" | grep -c '^caught at seed')
	echo "$out" | grep -E '^caught|VIOLATION' | sed 's/^/# /'
	ok "$([ "$caught" -ge 1 ] && echo 0 || echo 1)" \
		"table mutation $m (${tnames[$m]}) caught by sim -T within $MUT_SEEDS seeds"
done

# seeds that once failed (each note says what was wrong)
for s in 963 2226 15328 78095 98663; do
	"$B/sim" -n 1 -s $s -q > /dev/null 2>&1
	ok $? "simulator regression seed $s"
done
# 963: follower dropped acked entries on snapshot install; 2226: duplicate
# answers multiplied appends; 15328 78095 98663: a node with a non-empty log
# called its world fresh, so a recovering leader started a new world

names=("" "commit without a majority" "grant on a follower" \
       "restarted node skips recovery" "no lock-delay after whole restart" \
       "commit index moves back (DL_ASSERT)")
for m in 1 2 3 4 5; do
	out=$("$B/sim-mut$m" -n "$MUT_SEEDS" -x -q 2>&1)
	caught=$(echo "$out" | grep -c '^caught at seed')
	echo "$out" | grep -E '^caught|VIOLATION' | sed 's/^/# /'
	ok $([ "$caught" = 1 ] && echo 0 || echo 1) \
		"mutation $m (${names[$m]}) caught within $MUT_SEEDS seeds"
done
echo "1..$n"
exit $fail
