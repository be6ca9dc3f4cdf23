# shellcheck shell=bash
# TAP for the shell test scripts (sourced): ok STATUS DESCRIPTION prints
# "ok N - DESCRIPTION" when STATUS is 0, else "not ok N - ..." and counts
# the failure in $failed; $n is the number of tests so far.
n=0
failed=0

ok() {
	n=$((n + 1))
	if [ "$1" = 0 ]; then
		echo "ok $n - $2"
	else
		echo "not ok $n - $2"
		failed=$((failed + 1))
	fi
}
