#!/usr/bin/env bash
# The man pages and the bash completion keep up with dlockctl: they render
# without warnings, and name every command and every option dlockctl's help
# lists, and every public libdlock function.  Prints TAP.
set -u
: "${DLOCKCTL:?path of the dlockctl binary}"
# shellcheck source=tests/tap.sh
. "$(dirname "$0")/../tap.sh"
comp=userspace/dlockctl/dlockctl.bash-completion
man8=userspace/man/dlockctl.8

for page in $man8 userspace/man/*.3; do
	grep -q '^\.so ' "$page" && continue
	warn=$(groff -ww -man -Tutf8 -z "$page" 2>&1)
	ok "$([ -z "$warn" ] && echo 0 || echo 1)" "$page renders without warnings${warn:+: $warn}"
done

help=$("$DLOCKCTL" --help)
# "  USAGE" lines of the Commands section, one per command.
usages=$(awk '/^Commands:/ {on = 1; next} on && /^  [a-z]/ {print} /^$/ && on {on = 0}' <<<"$help")
cmds=$(awk '{print $1}' <<<"$usages")
missing=""
for c in $cmds; do
	grep -q "^\.B.* $c\|^\.BR* \"\?$c\b\|^\.BI \"$c " $man8 || missing="$missing $c"
done
ok "$([ -n "$cmds" ] && [ -z "$missing" ] && echo 0 || echo 1)" "dlockctl(8) documents every command (missing:${missing:- none})"

missing=""
for c in $cmds; do
	grep -qw -- "$c" $comp || missing="$missing $c"
done
ok "$([ -z "$missing" ] && echo 0 || echo 1)" "the bash completion knows every command (missing:${missing:- none})"

# complete WORDS...: what the completion offers for the last word.
complete_words() {
	bash -c 'source "$0"; COMP_WORDS=("${@}"); COMP_CWORD=$((${#COMP_WORDS[@]} - 1)); _dlockctl; echo "${COMPREPLY[*]}"' \
		$comp "$@"
}

# man_entry CMD: CMD's entry in dlockctl(8), its synopsis line to the next.
man_entry() {
	awk -v c="$1" '/^\.(TP|SH)/ {on = 0}
		$0 ~ "^\\.B[IR]* \"?" c "[ \"]" {on = 1} on' $man8
}

# Every option of every command's usage line: in the completion of that
# command and in the man page.
nocomp="" noman="" nopts=0
while read -r c rest; do
	offered=" $(complete_words dlockctl "$c" x -) "
	for o in $(grep -oE -- '(^|[[ |])--?[a-zA-Z][a-z-]*' <<<"$rest" | tr -d '[ |'); do
		nopts=$((nopts + 1))
		[[ $offered == *" $o "* ]] || nocomp="$nocomp $c:$o"
		# As groff source: \-\-ttl, \-w (and -w is not the start of \-\-wait).
		pat=$(sed 's/-/\\\\-/g' <<<"$o")
		man_entry "$c" | grep -qE -- "(^|[^-])$pat([^a-z-]|\$)" || noman="$noman $c:$o"
	done
done <<<"$usages"
ok "$([ "$nopts" -gt 20 ] && [ -z "$nocomp" ] && echo 0 || echo 1)" "the completion offers each command's options ($nopts; missing:${nocomp:- none})"
ok "$([ "$nopts" -gt 20 ] && [ -z "$noman" ] && echo 0 || echo 1)" "dlockctl(8) names each command's options (missing:${noman:- none})"

out=$(complete_words dlockctl lo; complete_words dlockctl lock x --t; complete_words dlockctl run x -w 5)
[ "$out" = $'lock\n--ttl --try\n5ms 5s 5m 5h' ]
ok $? "completion completes commands, their options and duration units (got: ${out//$'\n'/ | })"

out=$(complete_words dlockctl elect x v -- ech)
[[ " $out " == *" echo "* ]]
ok $? "completion completes elect's CMD after -- as a command"

# Durations: help and man page both say a bare number is seconds.
grep -q 'A DURATION is seconds' <<<"$help" && grep -q 'is a number of seconds' $man8
ok $? "help and dlockctl(8) both say a bare DURATION is seconds"

# Every public function: in libdlock(3), or in the NAME of a page of its
# own (man FUNCTION works: a page or a .so link of that name).
missing=""
for f in $(grep -o '^int dlock_[a-z_]*\|^void dlock_[a-z_]*\|^const char \*dlock_[a-z_]*' userspace/lib/dlock.h | grep -o 'dlock_[a-z_]*'); do
	if grep -q "$f" userspace/man/libdlock.3; then
		continue
	fi
	page=userspace/man/$f.3
	[ -f "$page" ] || { missing="$missing $f"; continue; }
	target=$(sed -n 's|^\.so man3/||p' "$page")
	[ -n "$target" ] && page=userspace/man/$target
	sed -n '/^\.SH NAME/,/^\.SH/p' "$page" | grep -qw "$f" || missing="$missing $f"
done
ok "$([ -z "$missing" ] && echo 0 || echo 1)" "libdlock(3) or a page of its own documents every public function (missing:${missing:- none})"

echo "1..$n"
[ "$failed" = 0 ]
