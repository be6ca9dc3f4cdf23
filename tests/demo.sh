#!/usr/bin/env bash
# `make demo`: runs in the VM with dlock.ko loaded and shows it answering,
# in this namespace and in a fresh one (each network namespace is a node).
set -eu
PATH=$PWD/build:$PATH
run() {
	echo "# $*"
	"$@"
	echo
}
run dlockctl status
run dlockctl -j status
ip netns add demo-node
run ip netns exec demo-node dlockctl status
ip netns del demo-node
