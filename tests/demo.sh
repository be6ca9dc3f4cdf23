#!/usr/bin/env bash
# `make demo`: runs in the VM with dlock.ko loaded and shows a dlockctl
# session: a detached lease from the shell, contention, a job under a
# lock, and a second network namespace (each namespace is a node).
set -u
PATH=$PWD/build:$PATH
hostname demo
# Shows a command as one would type it: quotes only where needed.
show() {
	local a out=
	for a; do
		if [[ $a =~ ^[A-Za-z0-9_./:=@%+-]+$ ]]; then out+=" $a"; else out+=" '$a'"; fi
	done
	echo "\$$out"
}
run() {
	show "$@"
	"$@"
	echo "[exit $?]"
	echo
}
run dlockctl status
run dlockctl lock nightly-backup --ttl 10m --owner backup-42
run dlockctl lock nightly-backup --ttl 10m --try
run dlockctl set-value nightly-backup --owner backup-42 "started by cron on $(hostname)"
run dlockctl get nightly-backup
run dlockctl -j list
run dlockctl unlock nightly-backup --owner backup-42
run dlockctl run db-migrate -- sh -c 'echo "migrating with fencing token $DLOCK_TOKEN"'
dlockctl run db-migrate -- sleep 1 &
sleep 0.3
run dlockctl run db-migrate --try -- echo never
wait
ip netns add node2
run ip netns exec node2 dlockctl status
ip netns del node2
