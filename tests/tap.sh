# shellcheck shell=bash
# Helpers for the shell test scripts (sourced).  ok STATUS DESCRIPTION
# prints TAP ("ok N - DESCRIPTION" when STATUS is 0, else "not ok N - ...")
# and counts the failure in $failed; $n is the number of tests so far.
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

# json JSON CODE: runs the python CODE on JSON parsed as d (asserts exit 1).
json() { python3 -c "import json,sys; d=json.loads(sys.argv[1]); $2" "$1"; }

# wait_for CMD...: retries CMD for up to 10 s.
wait_for() {
	for _ in $(seq 100); do
		"$@" >/dev/null 2>&1 && return 0
		sleep 0.1
	done
	return 1
}
