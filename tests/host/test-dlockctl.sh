#!/usr/bin/env bash
# dlockctl's argument handling and exit codes, on a host without the module.
# Prints TAP.  Every case checks the exit code scripts rely on and that the
# message names the problem.
set -u
: "${DLOCKCTL:?path of the dlockctl binary}"
n=0
failed=0

# expect CODE PATTERN DESCRIPTION -- ARGS...: runs dlockctl ARGS, checks its
# exit code and that its combined output matches the extended regex PATTERN.
expect() {
	local code=$1 pattern=$2 desc=$3 out rc
	shift 4
	out=$("$DLOCKCTL" "$@" 2>&1)
	rc=$?
	n=$((n + 1))
	if [ "$rc" = "$code" ] && grep -qE -- "$pattern" <<<"$out"; then
		echo "ok $n - $desc"
	else
		echo "not ok $n - $desc (exit $rc, want $code; output: ${out//$'\n'/ | })"
		failed=$((failed + 1))
	fi
}

expect 0 '^Usage: dlockctl' "--help prints usage and exits 0" -- --help
expect 0 'status' "--help lists the status command" -- -h
expect 0 "^dlockctl $(cat VERSION) \\(libdlock $(cat VERSION)\\)$" "--version prints both versions" -- --version
expect 2 'no command given' "no command is a usage error" --
expect 2 "unknown command 'frobnicate'" "an unknown command is named" -- frobnicate
expect 2 "unknown option '--bogus'" "an unknown option is named" -- --bogus status
expect 2 "unexpected argument 'extra'" "status rejects extra arguments" -- status extra
expect 3 'module is not loaded' "status without the module exits 3 and says why" -- status
expect 3 'insmod dlock.ko' "status without the module says how to load it" -- -j status

echo "1..$n"
[ "$failed" = 0 ]
