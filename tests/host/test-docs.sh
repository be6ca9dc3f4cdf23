#!/usr/bin/env bash
# The man pages and the bash completion keep up with dlockctl: they render
# without warnings and name every command dlockctl's help lists.  Prints TAP.
set -u
: "${DLOCKCTL:?path of the dlockctl binary}"
# shellcheck source=tests/tap.sh
. "$(dirname "$0")/../tap.sh"

for page in userspace/man/dlockctl.8 userspace/man/libdlock.3; do
	warn=$(groff -ww -man -Tutf8 -z "$page" 2>&1)
	ok "$([ -z "$warn" ] && echo 0 || echo 1)" "$page renders without warnings${warn:+: $warn}"
done

cmds=$("$DLOCKCTL" --help | awk '/^Commands:/ {on = 1; next} on && /^  [a-z]/ {print $1} /^$/ && on {on = 0}')
missing=""
for c in $cmds; do
	grep -q "^\.B.* $c\|^\.BR* \"\?$c\b\|^\.BI \"$c " userspace/man/dlockctl.8 || missing="$missing $c"
done
ok "$([ -n "$cmds" ] && [ -z "$missing" ] && echo 0 || echo 1)" "dlockctl(8) documents every command (missing:${missing:- none})"

missing=""
for c in $cmds; do
	grep -qw -- "$c" userspace/dlockctl/dlockctl.bash-completion || missing="$missing $c"
done
ok "$([ -z "$missing" ] && echo 0 || echo 1)" "the bash completion knows every command (missing:${missing:- none})"

# shellcheck disable=SC1091
out=$(bash -c 'source userspace/dlockctl/dlockctl.bash-completion
COMP_WORDS=(dlockctl lo); COMP_CWORD=1; _dlockctl; echo "${COMPREPLY[*]}"
COMP_WORDS=(dlockctl lock x --t); COMP_CWORD=3; _dlockctl; echo "${COMPREPLY[*]}"')
[ "$out" = $'lock\n--ttl --try' ]
ok $? "completion completes commands and their options (got: ${out//$'\n'/ | })"

missing=""
for f in $(grep -o '^int dlock_[a-z_]*\|^void dlock_[a-z_]*\|^const char \*dlock_[a-z_]*' userspace/lib/dlock.h | grep -o 'dlock_[a-z_]*'); do
	grep -q "$f" userspace/man/libdlock.3 || missing="$missing $f"
done
ok "$([ -z "$missing" ] && echo 0 || echo 1)" "libdlock(3) names every public function (missing:${missing:- none})"

echo "1..$n"
[ "$failed" = 0 ]
