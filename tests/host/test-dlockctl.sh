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

# Every lock command checks its arguments before it needs the module.
expect 2 -- '--ttl is required' "lock without --ttl is a usage error" -- lock x
expect 2 "'abc' is not a duration" "a bad duration is named" -- lock x --ttl abc
expect 2 "'5q' has an unknown unit" "an unknown duration unit is named" -- lock x --ttl 5q
expect 2 'too long' "a duration over 2^32 ms is refused" -- lock x --ttl 5000000h
expect 2 'exclude each other' "--try with --wait is refused" -- lock x --ttl 1s --try --wait 5
expect 2 'exclude each other' "--shared with --permits is refused" -- lock x --ttl 1s --shared --permits 2
expect 2 'at least 1' "--permits 0 is refused" -- lock x --ttl 1s --permits 0
expect 2 'at most 255' "a name over 255 bytes is refused" -- lock "$(printf 'x%.0s' $(seq 256))" --ttl 1s
expect 2 'lock NAME is empty' "an empty name is refused" -- lock "" --ttl 1s
expect 2 -- '--owner: must be 1 to 64 bytes' "an owner over 64 bytes is refused" -- lock x --ttl 1s --owner "$(printf 'o%.0s' $(seq 65))"
expect 2 'missing lock NAME' "get without NAME is a usage error" -- get
expect 2 "unexpected argument 'y'" "get with two names is a usage error" -- get x y
expect 2 "option '--ttl' does not apply here" "get refuses lock options" -- get x --ttl 5s
expect 2 -- '--owner is required' "unlock without --owner is a usage error" -- unlock x
expect 2 -- '--ttl is required' "renew without --ttl is a usage error" -- renew x --owner o
expect 2 'missing VALUE' "set-value without VALUE is a usage error" -- set-value x --owner o
expect 2 'tokens start at 1' "break --token 0 is refused" -- break x --token 0
expect 2 'missing CMD' "run without CMD is a usage error" -- run x
expect 2 'put -- before CMD' "run explains -- when CMD options look like its own" -- run x ls -l
expect 2 'give at least one --max-' "config set without a limit is a usage error" -- config set
expect 2 -- '--max-ttl: must be above zero' "config set --max-ttl 0 is refused" -- config set --max-ttl 0
expect 2 "'x' is not a number" "config set with a bad number names it" -- config set --max-leases x
expect 2 "unknown argument 'bogus'" "config with an unknown word is a usage error" -- config bogus
expect 3 'not loaded' "a valid lock without the module exits 3" -- lock x --ttl 1s

echo "1..$n"
[ "$failed" = 0 ]
