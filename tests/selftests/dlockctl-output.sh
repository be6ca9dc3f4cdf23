#!/usr/bin/env bash
# dlockctl's output cannot be forged, and `run` keeps its lock as long as any
# process of CMD runs: against the real module, in the guest.  Prints TAP.
# Every lease a case takes is gone before the next case starts.
# shellcheck source=tests/selftests/clienv.sh
. "$(dirname "$0")/clienv.sh"
rmem_max=$(cat /proc/sys/net/core/rmem_max)
cleanup() {
	echo "$rmem_max" > /proc/sys/net/core/rmem_max
	# shellcheck disable=SC2046
	kill $(jobs -p) 2>/dev/null
	wait 2>/dev/null
	rm -rf "$tmp"
}
trap cleanup EXIT

# pyjson FILE CODE [ARG...]: FILE must be strict UTF-8 JSON; CODE asserts
# on it as d, with the ARGs as bytes in a[].
pyjson() {
	python3 - "$@" <<'PY'
import json, os, sys
raw = open(sys.argv[1], "rb").read()
d = json.loads(raw.decode("utf-8"))	# strict: invalid UTF-8 raises
a = [os.fsencode(x) for x in sys.argv[3:]]
exec(sys.argv[2])
PY
}

wait_for() {
	local i
	for i in $(seq 150); do
		"$@" >/dev/null 2>&1 && return 0
		sleep 0.1
	done
	return 1
}

# subscribed FILE NAME: takes and frees NAME until a watcher writing to FILE
# saw it, so the events that follow reach that watcher.
subscribed() {
	local i
	for i in $(seq 50); do
		"$dl" run "$2" -- true
		grep -q "$2" "$1" && return 0
		sleep 0.2
	done
	return 1
}

# until_exit PID NAME: takes and frees NAME until process PID exited.
until_exit() {
	local i
	for i in $(seq 50); do
		kill -0 "$1" 2>/dev/null || return 0
		"$dl" run "$2" -- true
		sleep 0.2
	done
}

# held NAME: someone holds the lock (get finds it).
held() {
	"$dl" get "$1" >/dev/null 2>&1
}

# A name that would redraw the line and print a fake one.
evil=$'ev\033[2K\rroot-job: exclusive\nfake'
evil_esc='ev\x1b[2K\x0droot-job:\x20exclusive\x0afake'
owner=$'own\033]0;pwned\a'
owner_esc='own\x1b]0;pwned\x07'

"$dl" lock "$evil" --ttl 60s --owner "$owner" --value $'v\033[31m\x80 \\x' >/dev/null
ok $? "a lock whose name, owner and value hold control bytes is taken"

"$dl" list > "$tmp/list"
ok "$(! LC_ALL=C grep -q $'[\001-\011\013-\037\177-\377]' "$tmp/list"; echo $?)" \
	"list prints no control or non-ASCII byte ($(od -c "$tmp/list" | head -3 | tr '\n' ' '))"
[ "$(wc -l < "$tmp/list")" = 3 ]
ok $? "list prints exactly one header, one holder and one value line"
grep -qF "$evil_esc: exclusive, 1 holder" "$tmp/list"
ok $? "the name is escaped C-style, space included (\\xHH)"
grep -qF " owner $owner_esc pid " "$tmp/list"
ok $? "the owner is escaped"
grep -qxF '    value v\x1b[31m\x80 \\x' "$tmp/list"
ok $? "the value is escaped and a backslash is doubled"
no_ttl() { sed 's/ ttl [0-9]*ms$//'; }
"$dl" get "$evil" | no_ttl > "$tmp/get"
no_ttl < "$tmp/list" | cmp -s - "$tmp/get"
ok $? "get prints the same escaped text"

# comm comes from the executable's file name, which anyone chooses.
ln -s "$dl" "$tmp/"$'d\033[1ml'
"$tmp/"$'d\033[1ml' lock comm-test --ttl 60s --owner c >/dev/null
"$dl" get comm-test > "$tmp/comm"
grep -qF '(d\x1b[1ml)' "$tmp/comm"
ok $? "the holder's command name is escaped ($(tr '\n' ' ' < "$tmp/comm"))"
"$dl" unlock comm-test --owner c

"$dl" -j get "$evil" > "$tmp/get.json"
pyjson "$tmp/get.json" '
h = d["holders"][0]
assert d["name"].encode() == a[0] and h["owner"].encode() == a[1], d
assert h["value"] == "v\x1b[31m\ufffd \\x" and h["value_hex"] == a[2].hex(), h
assert "name_hex" not in d and "owner_hex" not in h, d
' "$evil" "$owner" $'v\033[31m\x80 \\x'
ok $? "get -j is UTF-8 JSON; a value that is not UTF-8 comes with its bytes in value_hex"
"$dl" unlock "$evil" --owner "$owner"
ok $? "the escaped lock is released by its owner"

# Bytes that are not UTF-8: invalid, overlong, a surrogate, above U+10FFFF.
bad=$'\xff\xc0\xaf\xed\xa0\x80\xf4\x90\x80\x80-\xc3\xa9'
"$dl" lock "$bad" --ttl 60s --owner $'\xfe' >/dev/null
"$dl" -j list > "$tmp/list.json"
pyjson "$tmp/list.json" '
l = [x for x in d if x.get("name_hex") == a[0].hex()]
assert len(l) == 1, d
assert l[0]["name"].endswith("-\u00e9") and l[0]["holders"][0]["owner_hex"] == "fe", l
' "$bad"
ok $? "list -j of a name that is not UTF-8: valid JSON, exact bytes in name_hex, the valid part kept"
"$dl" -j get "$bad" | python3 -c 'import json, sys; json.loads(sys.stdin.buffer.read().decode())'
ok $? "get -j of that name is strict UTF-8 JSON too"
"$dl" unlock "$bad" --owner $'\xfe'

# Fencing tokens count nanoseconds: above 2^53, so they are JSON strings.
"$dl" -j lock tok --ttl 60s --owner t > "$tmp/tok.json"
text_token=$("$dl" get tok | awk '$1 == "holder" {print $4}')
pyjson "$tmp/tok.json" "assert d['token'] == '$text_token' and int(d['token']) > 2**53, d"
ok $? "lock -j prints the token as a string, exactly ($text_token)"
if command -v jq >/dev/null; then
	[ "$("$dl" -j get tok | jq -r '.holders[0].token')" = "$text_token" ] &&
	[ "$(jq -r .token "$tmp/tok.json")" = "$text_token" ]
	ok $? "jq reads the exact token from lock -j and get -j"
else
	ok 0 "# SKIP jq is not installed (tests/install-deps installs it)"
fi
"$dl" unlock tok --owner t

# watch escapes too, and tells when the kernel dropped events.
# Appending, so that emptying the files after the warm-up leaves no hole.
"$dl" watch wev >> "$tmp/watch" 2>&1 &
watcher=$!
"$dl" -j watch wev >> "$tmp/watch.json" 2>&1 &
jwatcher=$!
subscribed "$tmp/watch" wev-0 && subscribed "$tmp/watch.json" wev-0
: > "$tmp/watch"
: > "$tmp/watch.json"
"$dl" lock $'wev\033[H\xff' --ttl 60s --owner w >/dev/null
"$dl" set-value $'wev\033[H\xff' --owner w 'addr:1'
"$dl" unlock $'wev\033[H\xff' --owner w
wait_for grep -q released "$tmp/watch"
wait_for grep -q released "$tmp/watch.json"
kill $watcher $jwatcher
wait $watcher $jwatcher 2>/dev/null
cut -d' ' -f1-4 "$tmp/watch" | grep -qxF 'granted wev\x1b[H\xff exclusive token' &&
	! LC_ALL=C grep -q $'[\001-\011\013-\037\177-\377]' "$tmp/watch"
ok $? "watch escapes the names it prints ($(head -1 "$tmp/watch"))"
# The value event comes between grant and release, with the same token.
[ "$(cut -d' ' -f1 "$tmp/watch" | tr '\n' ' ')" = "granted value released " ] &&
	[ "$(cut -d' ' -f5 "$tmp/watch" | sort -u | wc -l)" = 1 ] &&
	grep -q '^value .* owner w$' "$tmp/watch" && ! grep -q addr "$tmp/watch"
ok $? "watch prints the value event, owner but no value ($(sed -n 2p "$tmp/watch"))"
python3 - "$tmp/watch.json" <<'PY'
import json, sys
evs = [json.loads(l.decode("utf-8")) for l in open(sys.argv[1], "rb")]
assert [e["event"] for e in evs] == ["granted", "value", "released"], evs
assert len({e["token"] for e in evs}) == 1 and evs[1]["owner"] == "w", evs
assert "value" not in evs[1], evs
assert all(e["name_hex"] == b"wev\x1b[H\xff".hex() for e in evs), evs
assert all(isinstance(e["token"], str) for e in evs), evs
PY
ok $? "watch -j prints UTF-8 JSON lines with name_hex and string tokens"

# A watcher that stops reading overflows its receive queue: it must say so.
echo 4096 > /proc/sys/net/core/rmem_max
"$dl" watch ovf > "$tmp/ovf" 2> "$tmp/ovf.err" &
watcher=$!
subscribed "$tmp/ovf" ovf-0
echo "$rmem_max" > /proc/sys/net/core/rmem_max
kill -STOP $watcher
for i in $(seq 12); do "$dl" run "ovf-$i" -- true; done
kill -CONT $watcher
wait_for grep -q 'lost' "$tmp/ovf"
ok $? "watch says when the kernel dropped events ($(grep lost "$tmp/ovf" "$tmp/ovf.err" | head -2 | tr '\n' ' '))"
kill $watcher
wait $watcher 2>/dev/null

# A watcher whose output cannot be written exits non-zero and says why.
timeout 20 "$dl" watch full > /dev/full 2> "$tmp/full.err" &
watcher=$!
until_exit $watcher full-1
wait $watcher
rc=$?
ok "$([ $rc = 1 ] && grep -q 'No space left' "$tmp/full.err"; echo $?)" \
	"watch > /dev/full exits 1 at the first event (exit $rc: $(cat "$tmp/full.err"))"
mkfifo "$tmp/fifo"
(trap '' PIPE; exec timeout 20 "$dl" watch pipe > "$tmp/fifo" 2> "$tmp/pipe.err") &
watcher=$!
exec 4< "$tmp/fifo"
exec 4<&-
until_exit $watcher pipe-1
wait $watcher
rc=$?
ok "$([ $rc = 1 ] && grep -q 'Broken pipe' "$tmp/pipe.err"; echo $?)" \
	"watch into a closed pipe, SIGPIPE ignored, exits 1 (exit $rc: $(cat "$tmp/pipe.err"))"
"$dl" -j status > /dev/full 2> "$tmp/status.err"
rc=$?
ok "$([ $rc = 1 ] && grep -q 'No space left' "$tmp/status.err"; echo $?)" \
	"status > /dev/full exits 1 (exit $rc)"

# run: CMD inherits the lease's socket, so the lock stays with CMD's processes
# when dlockctl is killed: sh dies with dlockctl, its sleep keeps the lock.
"$dl" run inh -- sh -c 'sleep 6; true' &
runpid=$!
wait_for pgrep -f '^sleep 6$'	# CMD runs: not killed before the fork
kill -9 $runpid
wait $runpid 2>/dev/null
held inh
ok $? "kill -9 of run: the lock stays held while a process of CMD runs"
wait_for sh -c "! pgrep -f '^sleep 6$'"
wait_for sh -c "! '$dl' get inh"
ok $? "the lock is free once the last process of CMD exited"

# A CMD that drops its privileges loses the parent-death signal: the lock
# must still follow it, not be granted again while it runs.
"$dl" run inh2 -- setpriv --reuid=65534 --regid=65534 --clear-groups \
	sh -c 'sleep 7; true' &
runpid=$!
wait_for pgrep -f '^sleep 7$'
kill -9 $runpid
wait $runpid 2>/dev/null
held inh2
ok $? "kill -9 of run whose CMD became nobody: the lock stays held"
out=$("$dl" -j get inh2)
python3 -c "import json, sys; h = json.loads(sys.argv[1])['holders'][0]; assert h['uid'] == 0 and 'session' in h, h" "$out"
ok $? "the lease is still the socket-bound one dlockctl took (uid 0)"
wait_for sh -c "! pgrep -f '^sleep 7$'"
wait_for sh -c "! '$dl' get inh2"
ok $? "the lock is free once the unprivileged CMD exited"

# shellcheck disable=SC2016
out=$("$dl" run fd -- sh -c 'readlink /proc/self/fd/$DLOCK_FD')
grep -q '^socket:' <<<"$out"
ok $? "run tells CMD the inherited socket in DLOCK_FD ($out)"

nothing_left

echo "1..$n"
[ "$failed" = 0 ]
