#!/usr/bin/env bash
# Every parameter of dlock.ko is documented where an operator looks for it:
# dlockctl(8)'s MODULE PARAMETERS section and the shipped modprobe.d
# example, and neither names one the module does not have.  Prints TAP.
set -u
cd "$(dirname "$0")/../.." || exit 1
# shellcheck source=tests/tap.sh
. tests/tap.sh
ko=${DLOCK_KO:-kmod/dlock.ko}

params=$(modinfo -F parm "$ko" | cut -d: -f1 | sort -u)
ok "$([ -n "$params" ] && echo 0 || echo 1)" "modinfo lists the parameters of $ko: ${params//$'\n'/ }"
section=$(sed -n '/^\.SH MODULE PARAMETERS/,/^\.SH /p' userspace/man/dlockctl.8)
conf=$(grep -o 'dlock [a-z_= 0-9]*' userspace/modprobe/dlock.conf | grep -o '[a-z_]*=' | tr -d = | sort -u)
missing=
for p in $params; do
	grep -q "^\.BR .*\b$p\b" <<<"$section" || missing+=" $p"
done
ok "$([ -z "$missing" ] && echo 0 || echo 1)" "dlockctl(8) MODULE PARAMETERS documents each (missing:${missing:- none})"
missing=
for p in $params; do
	grep -qxF "$p" <<<"$conf" || missing+=" $p"
done
ok "$([ -z "$missing" ] && echo 0 || echo 1)" "the modprobe.d example shows each (missing:${missing:- none})"
extra=
for p in $conf; do
	grep -qxF "$p" <<<"$params" || extra+=" $p"
done
ok "$([ -z "$extra" ] && echo 0 || echo 1)" "the example names no parameter the module lacks (extra:${extra:- none})"
echo "1..$n"
[ $failed = 0 ]
