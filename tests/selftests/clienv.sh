# shellcheck shell=bash
# Sourced first by the dlockctl-*.sh suites: strict mode, the binary under
# test as $dl, a scratch directory $tmp (each suite's EXIT trap removes
# it), and the TAP helpers.
set -u
: "${DLOCKCTL:?path of the dlockctl binary}"
# shellcheck disable=SC2034 # the suites use them
dl=$DLOCKCTL tmp=$(mktemp -d)
# shellcheck source=tests/tap.sh
. "$(dirname "$0")/../tap.sh"

# nothing_left: the closing check, as the module refuses to unload while a
# lease exists and a stray waiter means a request was never withdrawn.
nothing_left() {
	out=$("$dl" -j status)
	json "$out" "assert d['leases'] == 0 and d['waiters'] == 0, d"
	ok $? "no lease or waiter is left behind ($out)"
}
