#!/usr/bin/env bash
# `make check-seal`: every planted bug of kmod/seal.c (SEAL_PLANT=n) must
# make tests/host/test_seal fail; one TAP line each, naming the tests that
# caught it.
set -u
B=$1
shift
names=("" "replay bit never tested" "accepted counter never marked" \
	"no too-old check" "cluster id unchecked" "receiver id unchecked" \
	"sender not checked against its address" \
	"associated data stops at byte 32" "key derivation ignores the salt" \
	"genuine datagrams keep their cost (no refund)" \
	"token bucket never refuses" "new boot adopted before its tag verifies" \
	"an older boot taken as a new one" "receiver epoch unchecked" \
	"key change keeps the derived keys" "sender counter never advances" \
	"reserved fields unchecked" \
	"a datagram for any boot names the receiver's old one")
fail=0
for n in "$@"; do
	out=$("$B/test_seal_plant$n" 2>&1)
	rc=$?
	caught=$(echo "$out" | grep '^not ok' | sed 's/^not ok [0-9]* - //' | head -3 | paste -sd ';' -)
	if [ $rc != 0 ] && [ -n "$caught" ]; then
		echo "ok $n - planted bug $n (${names[$n]:-?}) caught: $caught"
	elif [ $rc != 0 ]; then
		echo "ok $n - planted bug $n (${names[$n]:-?}) caught: exit status $rc"
	else
		echo "not ok $n - planted bug $n (${names[$n]:-?}) not caught"
		fail=1
	fi
done
exit $fail
