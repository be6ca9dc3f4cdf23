#!/usr/bin/env bash
# Host tests of tests/cluster/checker: synthetic histories that a correct
# lock service could produce must pass, and each planted fault must be
# caught as the violation it is.  Then mutants of the checker's own source
# (a bug planted in each) must make some case fail.  Prints TAP.
#
# usage: test_checker.sh CHECKER [CHECKER_SOURCES_DIR CC]
# With the sources dir, the mutants are built with CC and run too.
set -u
checker=${1:?usage: test_checker.sh CHECKER [SRCDIR CC]}
srcdir=${2:-}
cc=${3:-cc}
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=tests/tap.sh
. "$here/../tap.sh"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# Line writers.  Times are ns; TTLs ms.
# acq P NODE ID T_INV T_OK NAME MODE TOKEN [TTL] [OWNER] [PERMITS]
acq() {
	echo "$4 inv p=$1 node=$2 id=$3 op=acquire name=$6 mode=$7 permits=${11:-0} owner=${10:-tag:1} ttl=${9:-0} flags=block"
	echo "$5 ok p=$1 node=$2 id=$3 t0=$4 token=$8 ttl=${9:-0} count=1"
}
# acqfail P NODE ID T_INV T_DONE NAME MODE ERR
acqfail() {
	echo "$4 inv p=$1 node=$2 id=$3 op=acquire name=$6 mode=$7 permits=0 owner=tag:1 ttl=0 flags=try"
	echo "$5 fail p=$1 node=$2 id=$3 t0=$4 err=$8"
}
# rel P NODE ID T_INV T_DONE NAME [ok|ERRNAME] [OWNER]
rel() {
	echo "$4 inv p=$1 node=$2 id=$3 op=release name=$6 owner=${8:-tag:1}"
	if [ "${7:-ok}" = ok ]; then
		echo "$5 ok p=$1 node=$2 id=$3 t0=$4 left=0"
	else
		echo "$5 fail p=$1 node=$2 id=$3 t0=$4 err=$7"
	fi
}
# lost P NODE T NAME TOKEN
lost() { echo "$3 lost p=$1 node=$2 name=$4 token=$5 reason=expired"; }
# fin P NODE T
fin() { echo "$3 end p=$1 node=$2"; }
# nkill NODE T [T_DONE]: a kill begun at T, over at T_DONE.
nkill() {
	echo "$2 nemesis action=kill node=$1"
	if [ -n "${3:-}" ]; then echo "$3 nemesis action=killed node=$1"; fi
}

# case NAME: the history read from stdin goes to $tmp/NAME.
case_() { cat >"$tmp/$1"; }

# pass NAME DESC: the checker accepts it.
pass() {
	local out rc
	out=$("$checker" "$tmp/$1" 2>&1)
	rc=$?
	if [ "$rc" = 0 ] && grep -q '^checker: no violations$' <<<"$out"; then
		ok 0 "$2"
	else
		ok 1 "$2 (exit $rc: $(head -c 600 <<<"$out" | tr '\n' '|'))"
	fi
}

# catch KIND NAME DESC: the checker exits 1 and names the violation KIND.
catch() {
	local out rc
	out=$("$checker" "$tmp/$2" 2>&1)
	rc=$?
	if [ "$rc" = 1 ] && grep -q "^VIOLATION $1: " <<<"$out"; then
		ok 0 "$3"
	else
		ok 1 "$3 (exit $rc, want 1 and VIOLATION $1: $(head -c 600 <<<"$out" | tr '\n' '|'))"
	fi
}

cases() {
# ---- histories a correct service could write ---------------------------
case_ handoff <<EOF
$(acq a 1 1 100 110 x ex 5)
$(acqfail b 2 1 120 130 x ex EAGAIN)
140 inv p=b node=2 id=2 op=acquire name=x mode=ex permits=0 owner=tag:1 ttl=0 flags=block
$(rel a 1 2 200 210 x)
205 ok p=b node=2 id=2 t0=140 token=6 ttl=0 count=1
$(rel b 2 3 300 310 x)
$(fin a 1 400)
$(fin b 2 400)
EOF
pass handoff "an exclusive hand-off (B granted after A's release began) passes"

case_ shared <<EOF
$(acq a 1 1 100 110 r sh 5)
$(acq b 2 1 105 120 r sh 6)
$(rel a 1 2 200 210 r)
$(rel b 2 2 190 215 r)
$(acq c 3 1 150 220 r ex 7)
$(rel c 3 2 230 240 r)
$(fin a 1 400)
$(fin b 2 400)
$(fin c 3 400)
EOF
pass shared "overlapping shared holders, then an exclusive one, pass"

case_ sem <<EOF
$(acq a 1 1 100 110 s sem 5 0 tag:1 2)
$(acq b 2 1 100 120 s sem 6 0 tag:1 2)
$(acq c 3 1 100 210 s sem 7 0 tag:1 2)
$(rel a 1 2 200 220 s)
$(rel b 2 2 300 310 s)
$(rel c 3 2 300 310 s)
$(fin a 1 400)
$(fin b 2 400)
$(fin c 3 400)
EOF
pass sem "two holders of a 2-permit semaphore, a third after one released, pass"

case_ lostok <<EOF
$(acq a 1 1 100 110 x ex 5 0 tag:7)
$(lost a 1 300 x 5)
$(acq b 2 1 120 350 x ex 6)
$(rel a 1 2 400 410 x ENOENT tag:7)
$(rel b 2 2 500 510 x)
$(fin a 1 600)
$(fin b 2 600)
EOF
pass lostok "a holder told its lease was lost before another grant passes"

case_ killed <<EOF
$(acq a 1 1 100 110 x ex 5)
150 inv p=a node=1 id=2 op=acquire name=y mode=ex permits=0 owner=tag:1 ttl=0 flags=block
$(nkill 1 200)
$(acq b 2 1 120 900 x ex 6)
$(rel b 2 2 1000 1010 x)
$(fin b 2 2000)
EOF
pass killed "a node killed with a request pending and a lease held passes"

case_ ttl <<EOF
$(acq a 1 1 1000000 1100000 d ex 5 2 det:o1)
$(acq b 2 1 1500000 3200000 d ex 6 2 det:o2)
$(rel a 1 2 3500000 3600000 d ENOENT det:o1)
$(rel b 2 2 3700000 3800000 d ok det:o2)
$(fin a 1 4000000)
$(fin b 2 4000000)
EOF
pass ttl "a detached lease expiring at its TTL, then granted again, passes"

case_ concurrent <<EOF
$(acq a 1 1 100 300 c sh 9)
$(acq b 2 1 110 200 c sh 8)
$(rel a 1 2 400 410 c)
$(rel b 2 2 400 410 c)
$(fin a 1 500)
$(fin b 2 500)
EOF
pass concurrent "tokens of concurrent grants in either order pass"

case_ dying <<EOF
$(nkill 1 200 400)
$(acq a 1 1 100 250 x ex 5)
300 inv p=a node=1 id=2 op=release name=x owner=tag:1
$(acq b 2 1 120 260 x ex 6)
$(rel b 2 2 500 510 x)
$(fin b 2 600)
EOF
pass dying "lines of a node's process while its kill is under way pass"

case_ keepalive <<EOF
1000000 inv p=a node=1 id=1 op=acquire name=k mode=ex permits=0 owner=tag:1 ttl=1 flags=block,keepalive
1100000 ok p=a node=1 id=1 t0=1000000 token=5 ttl=1 count=1
$(rel a 1 2 9000000 9100000 k ok)
$(fin a 1 9500000)
EOF
pass keepalive "a keep-alive lease released long after one TTL passes"

case_ lateack <<EOF
$(acq b 2 1 1000000 400000000 x ex 3 200)
$(acq a 1 1 300000000 390000000 x ex 5)
$(rel a 1 2 500000000 510000000 x)
$(rel b 2 2 600000000 610000000 x ENOENT)
$(fin a 1 700000000)
$(fin b 2 700000000)
EOF
pass lateack "a grant acknowledged after its TTL ran out is not certainly held (no overlap)"

# ---- planted faults ----------------------------------------------------
case_ exovl <<EOF
$(acq a 1 1 100 110 x ex 5)
$(acq b 2 1 120 150 x ex 6)
$(rel a 1 2 200 210 x)
$(rel b 2 2 300 310 x)
$(fin a 1 400)
$(fin b 2 400)
EOF
catch exclusive-overlap exovl "two exclusive holders at once are caught"

case_ shex <<EOF
$(acq a 1 1 100 110 r sh 5)
$(acq b 2 1 120 150 r ex 6)
$(rel a 1 2 200 210 r)
$(rel b 2 2 300 310 r)
$(fin a 1 400)
$(fin b 2 400)
EOF
catch shared-exclusive-overlap shex "a shared and an exclusive holder at once are caught"

case_ semover <<EOF
$(acq a 1 1 100 110 s sem 5 0 tag:1 2)
$(acq b 2 1 100 120 s sem 6 0 tag:1 2)
$(acq c 3 1 100 130 s sem 7 0 tag:1 2)
$(rel a 1 2 200 220 s)
$(rel b 2 2 300 310 s)
$(rel c 3 2 300 310 s)
$(fin a 1 400)
$(fin b 2 400)
$(fin c 3 400)
EOF
catch semaphore-over-permits semover "three holders of a 2-permit semaphore are caught"

case_ mix <<EOF
$(acq a 1 1 100 110 m sem 5 0 tag:1 3)
$(acq b 2 1 120 130 m ex 6)
$(rel a 1 2 200 220 m)
$(rel b 2 2 300 310 m)
$(fin a 1 400)
$(fin b 2 400)
EOF
catch mixed-kind-overlap mix "a semaphore and an exclusive holder of one name at once are caught"

case_ back <<EOF
$(acq a 1 1 100 110 x ex 9)
$(rel a 1 2 200 210 x)
$(acq b 2 1 300 310 x ex 4)
$(rel b 2 2 400 410 x)
$(fin a 1 500)
$(fin b 2 500)
EOF
catch token-order back "a token going backwards in real-time grant order is caught"

case_ equal <<EOF
$(acq a 1 1 100 110 x ex 9)
$(rel a 1 2 200 210 x)
$(acq b 2 1 300 310 x ex 9)
$(rel b 2 2 400 410 x)
$(fin a 1 500)
$(fin b 2 500)
EOF
catch token-reused equal "the same token for two grants is caught"

case_ lostgrant <<EOF
$(acq a 1 1 100 110 x ex 5 60000)
$(rel a 1 2 200 210 x ENOENT)
$(fin a 1 500)
EOF
catch lost-grant lostgrant "a lease gone without notice before its TTL (release fails ENOENT) is caught"

case_ unanswered <<EOF
$(acq a 1 1 100 110 x ex 5)
$(rel a 1 2 200 210 x)
300 inv p=a node=1 id=3 op=acquire name=y mode=ex permits=0 owner=tag:1 ttl=0 flags=block
$(fin a 1 500)
EOF
catch unanswered unanswered "a request never answered is caught"

case_ otherkill <<EOF
300 inv p=a node=1 id=3 op=acquire name=y mode=ex permits=0 owner=tag:1 ttl=0 flags=block
$(nkill 2 400)
EOF
catch unanswered otherkill "another node's kill does not excuse an unanswered request"

case_ earlykill <<EOF
$(nkill 1 100)
300 inv p=a node=1 id=3 op=acquire name=y mode=ex permits=0 owner=tag:1 ttl=0 flags=block
EOF
catch unanswered earlykill "a kill before the request does not excuse it"

case_ latekill <<EOF
$(nkill 1 200 250)
$(acq a 1 1 100 110 x ex 5)
300 inv p=a node=1 id=3 op=acquire name=y mode=ex permits=0 owner=tag:1 ttl=0 flags=block
EOF
catch unanswered latekill "a request invoked after its node's kill was over is not excused"

case_ vanished <<EOF
$(acq a 1 1 100 110 x ex 5)
$(rel a 1 2 200 210 x)
EOF
catch process-vanished vanished "a process whose history stops without end or kill is caught"

case_ phantom <<EOF
$(rel a 1 1 100 110 x ok)
$(fin a 1 500)
EOF
catch phantom-release phantom "a release reported successful for a lease never held is caught"

case_ lostrel <<EOF
$(acq a 1 1 100 110 x ex 5 0 tag:3)
$(lost a 1 150 x 5)
$(rel a 1 2 200 210 x ok tag:3)
$(fin a 1 500)
EOF
pass lostrel "a release reported successful after its holder was told the lease was lost, nobody granted between, passes (a cluster node tells before the leader ends it)"

case_ phantomlost <<EOF
$(acq a 1 1 100 110 x ex 5 0 tag:3)
$(lost a 1 150 x 5)
$(acq b 2 1 120 160 x ex 6 0 tag:2)
$(rel a 1 2 200 210 x ok tag:3)
$(rel b 2 2 300 310 x ok tag:2)
$(fin a 1 500)
$(fin b 2 500)
EOF
catch phantom-release phantomlost "a release reported successful after the lease was lost and another holder was granted is caught"

case_ phantomttl <<EOF
$(acq a 1 1 1000000 1100000 d ex 5 1 det:o1)
$(acq b 2 1 2500000 3000000 d ex 6 0 tag:2)
$(rel b 2 2 4000000 4100000 d ok tag:2)
$(rel a 1 2 105000000 105100000 d ok det:o1)
$(fin a 1 106000000)
$(fin b 2 106000000)
EOF
catch phantom-release phantomttl "a release reported successful after the TTL ran out and another holder was granted is caught"

case_ ttlslack <<EOF
$(acq a 1 1 1000000 1100000 d ex 5 1 det:o1)
$(rel a 1 2 5000000 5100000 d ok det:o1)
$(fin a 1 6000000)
EOF
pass ttlslack "a release after the TTL, nobody granted meanwhile, passes (the log may order it first)"

case_ lateok <<EOF
$(acq a 1 1 1000000 30000000 d ex 5 5 det:o1)
$(acq b 2 1 2000000 29000000 d ex 4 5 tag:2)
$(rel a 1 2 31000000 31100000 d ok det:o1)
$(fin a 1 106000000)
$(fin b 2 106000000)
EOF
pass lateok "a late release and another grant invoked before it was acknowledged pass (not certainly inside)"

case_ lostlate <<EOF
$(acq a 1 1 100 110 x ex 5)
$(acq b 2 1 120 300 x ex 6)
$(lost a 1 350 x 5)
$(rel a 1 2 400 410 x ENOENT)
$(rel b 2 2 500 510 x)
$(fin a 1 600)
$(fin b 2 600)
EOF
catch exclusive-overlap lostlate "a lost notice arriving after another holder's grant is caught"

case_ partition <<EOF
# node 1 led, then was cut off; node 2 became leader and granted x while
# node 1's holder was never told.
$(acq a 1 1 100 110 x ex 5)
150 nemesis action=partition nodes=1|2,3
$(acq b 2 1 200 900 x ex 6)
$(rel b 2 2 1000 1010 x)
1100 nemesis action=heal
$(rel a 1 2 1200 1210 x ENOENT)
$(fin a 1 1300)
$(fin b 2 1300)
EOF
catch exclusive-overlap partition "a partitioned old leader's holder overlapping the new leader's grant is caught"
catch lost-grant partition "... and that holder's lease was lost without notice"

case_ closed <<EOF
$(acq a 1 1 100 110 x ex 5)
200 inv p=a node=1 id=2 op=close
210 ok p=a node=1 id=2 t0=200
$(acq b 2 1 150 190 x ex 6)
$(rel b 2 2 300 310 x)
$(fin a 1 400)
$(fin b 2 400)
EOF
catch exclusive-overlap closed "a grant before the holder's close was invoked is caught"

case_ closedok <<EOF
$(acq a 1 1 100 110 x ex 5)
200 inv p=a node=1 id=2 op=close
210 ok p=a node=1 id=2 t0=200
$(acq b 2 1 150 215 x ex 6)
$(rel b 2 2 300 310 x)
$(fin a 1 400)
$(fin b 2 400)
EOF
pass closedok "a grant after the holder's close was invoked passes"
}
cases
# A mutant is caught when it fails more cases than the checker itself.
base_failed=$failed

# ---- malformed input is refused, not skipped ---------------------------
for bad in "abc inv p=a" "100 frob p=a" "100 inv p=a node=1 id=1 op=acquire name=x mode=zz owner=tag:1" \
	"100 ok p=a node=1 id=7 token=1"; do
	echo "$bad" >"$tmp/bad"
	out=$("$checker" "$tmp/bad" 2>&1)
	rc=$?
	[ "$rc" = 2 ] && grep -q "bad:1: " <<<"$out"
	ok $? "a malformed line is refused with its place ('$bad')"
done
"$checker" "$tmp/does-not-exist" >/dev/null 2>&1
[ $? = 2 ]
ok $? "a missing history file is an error"

# ---- the checker's own bugs make cases fail ----------------------------
# Each mutant plants one bug; running the cases against it must fail some.
if [ -n "$srcdir" ]; then
	mutants=(
		"overlap: ends compared loosely|s/act\[j\]->end <= b->ok->t/act[j]->end <= b->ok->t + 1000/"
		"semaphore: permits off by one|s/sem + 1 > b->acq->permits/sem > b->acq->permits/"
		"tokens: equal allowed|s/a->ok->token == b->ok->token \&\&/0 \&\&/"
		"tokens: order ignored|s/max->ok->token > b->ok->token/max->ok->token > b->ok->token + 100/"
		"lost notice ends the lease at once even if late|s/end_at(g, e->t, END_LOST, e);/end_at(g, g->ok->t, END_LOST, e);/"
		"killed node excuses every node|s/k->node == node \&\& k->done >= after/k->done >= after/"
		"phantom release unchecked|s/if (why \&\& violation/if (0 \&\& why \&\& violation/"
		"late release after another grant unchecked|s/b->acq->t >= a->ok->t \&\& b->ok->t < a->late_release->t/0/"
		"release after a lost notice unchecked|s/(g->lost_at \&\& g->lost_at->t < inv->t) ||/0 ||/"
	)
	for m in "${mutants[@]}"; do
		desc=${m%%|*}
		expr=${m#*|}
		mdir=$tmp/mutant
		rm -rf "$mdir"
		mkdir -p "$mdir"
		cp "$srcdir"/checker.c "$srcdir"/checker.h "$srcdir"/history.c "$mdir"/
		sed -i "$expr" "$mdir/checker.c" "$mdir/history.c"
		if cmp -s "$srcdir/checker.c" "$mdir/checker.c" &&
			cmp -s "$srcdir/history.c" "$mdir/history.c"; then
			ok 1 "mutant '$desc': its plant did not apply"
			continue
		fi
		if ! $cc -O1 -std=gnu11 -o "$mdir/checker" "$mdir/checker.c" "$mdir/history.c" 2>"$mdir/cc.log"; then
			ok 1 "mutant '$desc': does not build: $(head -3 "$mdir/cc.log")"
			continue
		fi
		# shellcheck disable=SC2030,SC2031 # counted in a subshell on purpose
		mfail=$(checker=$mdir/checker; n=0; failed=0; cases >/dev/null; echo "$failed")
		[ "$mfail" -gt "$base_failed" ]
		ok $? "mutant '$desc' of the checker fails $((mfail - base_failed)) case(s)"
	done
fi
# shellcheck disable=SC2031 # the subshell's counts are its own
echo "1..$n"
# shellcheck disable=SC2031
[ "$failed" = 0 ]
