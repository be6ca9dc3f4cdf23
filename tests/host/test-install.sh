#!/usr/bin/env bash
# make install / make uninstall into a DESTDIR: the exact file list (module,
# depmod's alias for autoloading, library, headers, dlock.pc), a program
# built with nothing but `pkg-config --cflags --libs dlock`, and no file
# left after uninstall.  Prints TAP.
set -u
cd "$(dirname "$0")/../.." || exit 1
# shellcheck source=tests/tap.sh
. tests/tap.sh

make=${MAKE:-make}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
dest=$tmp/root
prefix=/usr
libdir=/usr/lib/$(${CC:-gcc} -print-multiarch)
krel=$(tests/vm/kver)
soname=$(sed -n 's/^LIB_SONAME := //p' Makefile)

# Each variable is given so that the test sees them honoured, and LIBDIR
# is left to its default so that the multiarch default is what is checked.
if $make -s install DESTDIR="$dest" PREFIX=$prefix >"$tmp/install.log" 2>&1; then rc=0; else rc=1; fi
ok $rc "make install DESTDIR PREFIX=$prefix"
[ $rc = 0 ] || sed 's/^/# /' "$tmp/install.log"

expected=$(sort <<EOF
/etc/modprobe.d/dlock.conf
/lib/modules/$krel/updates/dlock.ko
$prefix/include/dlock.h
$prefix/include/dlock/linux/dlock.h
$libdir/libdlock.a
$libdir/libdlock.so
$libdir/$soname
$libdir/pkgconfig/dlock.pc
$prefix/sbin/dlockctl
$prefix/share/bash-completion/completions/dlockctl
$(for f in userspace/man/*.3; do echo "$prefix/share/man/man3/${f##*/}"; done)
$(for f in userspace/man/*.8; do echo "$prefix/share/man/man8/${f##*/}"; done)
EOF
)
# depmod's indexes are checked apart (their set depends on kmod's version).
got=$(cd "$dest" && find . ! -type d ! -path "./lib/modules/$krel/modules.*" | sed 's|^\.||' | sort)
diff=$(diff <(echo "$expected") <(echo "$got"))
ok "$([ -z "$diff" ] && echo 0 || echo 1)" "install writes exactly the expected files"
[ -z "$diff" ] || sed 's/^/# /' <<<"$diff"

grep -qx 'alias net-pf-16-proto-16-family-dlock dlock' "$dest/lib/modules/$krel/modules.alias" 2>/dev/null
ok $? "depmod -b DESTDIR indexed the genetlink family alias (autoload)"

# pkg-config as a cross build uses it: the sysroot prefixes every path.
export PKG_CONFIG_SYSROOT_DIR=$dest
export PKG_CONFIG_LIBDIR=$dest$libdir/pkgconfig:$libdir/pkgconfig:/usr/share/pkgconfig
flags=$(pkg-config --cflags --libs dlock 2>&1)
ok $? "pkg-config --cflags --libs dlock: $flags"
# shellcheck disable=SC2086  # flags are words
${CC:-gcc} -Wall -Werror -o "$tmp/prog" tests/host/pkgconfig-prog.c $flags 2>"$tmp/cc.log"
rc=$?
ok $rc "a program builds with only pkg-config's flags"
[ $rc = 0 ] || sed 's/^/# /' "$tmp/cc.log"
out=$(LD_LIBRARY_PATH=$dest$libdir ldd "$tmp/prog" 2>&1 | grep libdlock)
[[ $out == *"$dest$libdir/$soname"* ]]
ok $? "it links the installed $soname ($out)"
# No module on the host: the program reports that, in the library's words.
out=$(LD_LIBRARY_PATH=$dest$libdir "$tmp/prog" 2>&1)
[ $? = 3 ] && [[ $out == "dlock: the dlock kernel module is not loaded"* ]]
ok $? "it runs ($out)"

if $make -s uninstall DESTDIR="$dest" PREFIX=$prefix >"$tmp/uninstall.log" 2>&1; then rc=0; else rc=1; fi
ok $rc "make uninstall"
[ $rc = 0 ] || sed 's/^/# /' "$tmp/uninstall.log"
left=$(cd "$dest" && find . ! -type d)
ok "$([ -z "$left" ] && echo 0 || echo 1)" "uninstall leaves no file behind${left:+: ${left//$'\n'/ }}"
left=$(cd "$dest" && find . -type d -name 'dlock*')
ok "$([ -z "$left" ] && echo 0 || echo 1)" "nor a dlock directory${left:+: ${left//$'\n'/ }}"

# An edited modprobe.d file is the administrator's: uninstall keeps it.
$make -s install DESTDIR="$dest" PREFIX=$prefix >/dev/null 2>&1
echo 'options dlock max_leases=5' >>"$dest/etc/modprobe.d/dlock.conf"
$make -s uninstall DESTDIR="$dest" PREFIX=$prefix >/dev/null 2>&1
grep -q max_leases=5 "$dest/etc/modprobe.d/dlock.conf" 2>/dev/null
ok $? "an edited /etc/modprobe.d/dlock.conf survives uninstall"

echo "1..$n"
[ $failed = 0 ]
