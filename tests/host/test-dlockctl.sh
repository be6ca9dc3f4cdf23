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

# Durations: a bare number is seconds; every option that takes one names
# itself and the value it refuses.  (tests/host/test_duration.c checks the
# values parsed; here, that each option goes through the parser.)
expect 3 'not loaded' "a fraction of seconds is a valid --ttl (1.5s)" -- lock x --ttl 1.5s
expect 3 'not loaded' "a bare fraction is seconds (0.25)" -- lock x --ttl 0.25
expect 3 'not loaded' "250ms and 2m are valid" -- lock x --ttl 250ms --wait 2m
expect 2 -- "--ttl: '-5' is not a duration" "a negative --ttl is named with its value" -- lock x --ttl -5
expect 2 -- "--ttl: '' is not a duration" "an empty --ttl is named" -- lock x --ttl ''
expect 2 -- "--ttl: '1.5ms' is finer than a millisecond" "a --ttl finer than 1 ms is refused" -- lock x --ttl 1.5ms
expect 2 -- "--ttl: '4294968' is too long" "4294968 seconds overflow the 32-bit milliseconds" -- lock x --ttl 4294968
expect 2 -- "--ttl: must be above zero" "--ttl 0 is refused" -- lock x --ttl 0
expect 2 -- "--wait: 'soon' is not a duration" "a bad --wait is named" -- lock x --ttl 1s --wait soon
expect 2 -- "-w: '1x' has an unknown unit" "a bad -w is named" -- run x -w 1x -- true
expect 2 -- "--grace: '5q' has an unknown unit" "a bad --grace is named" -- run x --grace 5q -- true
expect 2 -- "--ttl: 'abc' is not a duration" "a bad renew --ttl is named" -- renew x --owner o --ttl abc
expect 2 -- "--max-ttl: '2x' has an unknown unit" "a bad config --max-ttl is named" -- config set --max-ttl 2x
expect 2 -- "--ttl: '1e3' has an unknown unit" "a bad elect --ttl is named" -- elect x v --ttl 1e3 -- true

# flock(1)'s spellings: -n, -w SECONDS, -E CODE, -v.
expect 3 'not loaded' "run accepts -n, -E and -v" -- run x -n -E 7 -v -- true
expect 3 'not loaded' "run accepts -w with seconds" -- run x -w 2.5 -- true
expect 3 'not loaded' "lock accepts -w, -E and -v" -- lock x --ttl 1s -w 1 -E 9 -v
expect 2 'exclude each other' "-n with --wait is refused" -- run x -n --wait 5 -- true
expect 2 'exclude each other' "--try with -w is refused" -- run x --try -w 5 -- true
expect 2 -- "-E: '256' is not an exit code" "-E above 255 is refused" -- run x -E 256 -- true
expect 2 -- "-E: 'x' is not a number" "-E with a word is refused" -- run x -E x -- true
expect 2 "missing value of option '-E'" "-E without its value is named" -- run x -E
expect 2 "option '-E' does not apply here" "unlock refuses -E" -- unlock x --owner o -E 3

# elect and observe check their arguments before they need the module.
expect 2 'missing lock NAME' "elect without NAME is a usage error" -- elect
expect 2 'missing VALUE' "elect without VALUE is a usage error" -- elect x
expect 2 'missing CMD to run as leader' "elect without CMD is a usage error" -- elect x v
expect 2 'VALUE must be 1 to 1024 bytes' "elect with an empty VALUE is refused" -- elect x '' -- true
expect 2 'VALUE must be 1 to 1024 bytes' "elect with a VALUE over 1 KiB is refused" -- elect x "$(printf 'v%.0s' $(seq 1025))" -- true
expect 2 'at most 255' "an election name over 255 bytes is refused" -- elect "$(printf 'x%.0s' $(seq 256))" v -- true
expect 2 "option '--owner' does not apply here" "elect refuses --owner" -- elect x v --owner o -- true
expect 2 "option '--shared' does not apply here" "elect refuses --shared" -- elect x v --shared -- true
expect 2 'put -- before CMD' "elect explains -- when CMD options look like its own" -- elect x v ls -l
expect 2 'missing lock NAME' "observe without NAME is a usage error" -- observe
expect 2 "unexpected argument 'y'" "observe with two names is a usage error" -- observe x y
expect 2 "option '--ttl' does not apply here" "observe refuses lock options" -- observe x --ttl 5
expect 3 'not loaded' "a valid elect without the module exits 3" -- elect x v --ttl 30 -- true
expect 3 'not loaded' "a valid observe without the module exits 3" -- -j observe x

# setconf reads the whole file before it opens the module: a bad file is
# exit 2 naming file and line (here, without the module, a file that got as
# far as sending would be exit 3), a good one gets as far as the module.
conf=$(mktemp -d)
trap 'rm -rf "$conf"' EXIT
printf '[Cluster]\nId = 1\nListenPort = 7400\n\n[Peer]\nId = 2\nEndpoint = 10.0.0.2\n' >"$conf/cluster.conf"
expect 2 "^dlockctl: $conf/cluster.conf:7: Endpoint: port missing\$" "setconf names file, line and problem, exit 2" -- setconf "$conf/cluster.conf"
expect 2 '^dlockctl: \(stdin\):1: \[Peer\] before \[Cluster\]$' "setconf - reads stdin and names it" -- setconf - <<<'[Peer]'
printf '[Cluster]\nId = 1\nListenPort = 7400\n[Peer]\nId = 2\nEndpoint = [fd00::2]:7400\n' >"$conf/good.conf"
expect 3 'not loaded' "a valid setconf without the module exits 3" -- setconf "$conf/good.conf"
expect 3 'not loaded' "a file without [Cluster] (leave) is valid" -- setconf /dev/null
expect 1 "$conf/none.conf: No such file or directory" "setconf of a missing file exits 1 and names it" -- setconf "$conf/none.conf"
expect 2 'missing FILE' "setconf without FILE is a usage error" -- setconf
expect 2 "unexpected argument 'b'" "setconf with two files is a usage error" -- setconf a b
expect 2 "unknown option '--bogus'" "setconf refuses an option" -- setconf --bogus
expect 2 '-j does not apply' "showconf -j is a usage error" -- -j showconf
expect 2 "unexpected argument 'x'" "showconf takes no argument" -- showconf x
expect 2 "unknown argument 'join'" "cluster with an unknown word is a usage error" -- cluster join
expect 2 "unexpected argument 'now'" "cluster leave takes nothing more" -- cluster leave now
expect 3 'not loaded' "cluster without the module exits 3" -- -j cluster
expect 3 'not loaded' "cluster leave without the module exits 3" -- cluster leave

echo "1..$n"
[ "$failed" = 0 ]
