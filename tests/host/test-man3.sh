#!/usr/bin/env bash
# Every function dlock.h declares has its own man page (man dlock_acquire
# works), each page renders without warnings, and make install installs
# them all.  Prints TAP.
set -u
# shellcheck source=tests/tap.sh
. "$(dirname "$0")/../tap.sh"

funcs=$(grep -E '^(int|void|const char|struct [a-z_]+|uint[0-9]+_t|size_t|ssize_t|long|unsigned|bool)[ *]+dlock_[a-z0-9_]+\(' \
	userspace/lib/dlock.h | grep -oE 'dlock_[a-z0-9_]+\(' | tr -d '(')
ok "$([ "$(echo "$funcs" | wc -w)" -ge 20 ] && echo 0 || echo 1)" \
	"dlock.h declares functions ($(echo "$funcs" | wc -w) found)"

missing=""
for f in $funcs; do
	[ -f "userspace/man/$f.3" ] || missing="$missing $f"
done
ok "$([ -z "$missing" ] && echo 0 || echo 1)" "every function has its man page (missing:${missing:- none})"

# A page may be a .so link to the page of its group, named as a man tree
# names it; render through a tree as man(1) would.
tree=$(mktemp -d)
trap 'rm -rf "$tree"' EXIT
mkdir "$tree/man3"
cp userspace/man/*.3 "$tree/man3/"
bad=""
for p in userspace/man/*.3; do
	warn=$(cd "$tree" && groff -ww -man -Tutf8 -z "man3/${p##*/}" 2>&1)
	[ -z "$warn" ] || bad="$bad ${p##*/}: $warn"
done
ok "$([ -z "$bad" ] && echo 0 || echo 1)" "every page renders without warnings${bad:+:$bad}"

missing=""
for f in $funcs; do
	[ -f "$tree/man3/$f.3" ] || continue
	# Rendered, the page names the function in its NAME line.
	MANWIDTH=200 man -M "$tree" -P cat "$f" 2>/dev/null | sed -n '/^NAME/,/^SYNOPSIS/p' |
		grep -qw "$f" || missing="$missing $f"
done
ok "$([ -z "$missing" ] && echo 0 || echo 1)" "man FUNCTION shows the function's page (not found:${missing:- none})"

# What make install installs: its MAN3 list, as make evaluates it.
# shellcheck disable=SC2016 # $(MAN3) is for make
installed=$(make -s --no-print-directory -f Makefile -f - print-man3 <<<'print-man3: ; @echo $(MAN3)' 2>/dev/null)
missing=""
for f in $funcs; do
	case " $installed " in *" userspace/man/$f.3 "*) ;; *) missing="$missing $f" ;; esac
done
ok "$([ -n "$installed" ] && [ -z "$missing" ] && echo 0 || echo 1)" \
	"make install installs every function's page (missing:${missing:- none})"

echo "1..$n"
[ "$failed" = 0 ]
