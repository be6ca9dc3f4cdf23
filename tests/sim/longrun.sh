#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# A long simulator run in chunks on several cores, resumable, added up by
# sumruns.py.  It copies the simulator into DIR, so the tree may change
# while it runs; the run belongs to the commit it was started on.
#
#   longrun.sh [-T] -d DIR -s FIRST -n SEEDS [-j JOBS] [-c CHUNK]
#
# Each worker takes the next chunk of CHUNK seeds until SEEDS are taken;
# touch DIR/stop to end after the chunks under way.  A chunk that did not
# finish (killed) is run again by the next longrun.sh on DIR.  Ends with the sum
# and its status (sumruns.py).
set -u
here=$(cd "$(dirname "$0")" && pwd)
table= dir= first= seeds= jobs=$(nproc) chunk=1000
while getopts Td:s:n:j:c: o; do
	case $o in
	T) table=-T ;;
	d) dir=$OPTARG ;;
	s) first=$OPTARG ;;
	n) seeds=$OPTARG ;;
	j) jobs=$OPTARG ;;
	c) chunk=$OPTARG ;;
	*) exit 64 ;;
	esac
done
if [ -z "$dir" ] || [ -z "$first" ] || [ -z "$seeds" ]; then
	echo "usage: longrun.sh [-T] -d DIR -s FIRST -n SEEDS [-j JOBS] [-c CHUNK]" >&2
	exit 64
fi
mkdir -p "$dir" || exit 1
if [ ! -x "$dir/sim" ]; then
	cp "$here/../../build/sim/sim" "$dir/sim" || exit 1
	git -C "$here" describe --always --dirty > "$dir/commit" 2>/dev/null
	echo "$table -s $first -n $seeds -c $chunk" > "$dir/args"
fi
rm -f "$dir/stop"

# the first seed of the next chunk neither done nor taken, or nothing; a
# worker takes a chunk by making taken.FIRST, and leaves it only after the
# chunk's file is in place
take() {
	local s
	for ((s = first; s < first + seeds; s += chunk)); do
		mkdir "$dir/taken.$s" 2> /dev/null || continue
		if compgen -G "$dir/chunk.$s.rc*" > /dev/null; then
			rmdir "$dir/taken.$s"
			continue
		fi
		echo "$s"
		return
	done
}

worker() {
	local s n rc
	while [ ! -e "$dir/stop" ]; do
		s=$(take)
		[ -n "$s" ] || break
		n=$((first + seeds - s < chunk ? first + seeds - s : chunk))
		"$dir/sim" $table -n "$n" -s "$s" -q > "$dir/part.$s" 2>&1
		rc=$?
		if grep -q '^violations' "$dir/part.$s"; then
			mv "$dir/part.$s" "$dir/chunk.$s.rc$rc"
		else
			rm -f "$dir/part.$s"	# stopped: run it again later
		fi
		rmdir "$dir/taken.$s"
	done
}

rmdir "$dir"/taken.* 2> /dev/null	# left by a run that was killed
for ((j = 0; j < jobs; j++)); do
	worker &
done
trap 'touch "$dir/stop"' INT TERM
wait
python3 "$here/sumruns.py" "$dir"
