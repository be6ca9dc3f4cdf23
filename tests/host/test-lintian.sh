#!/usr/bin/env bash
# The packages make deb built: the five binary packages are there, and
# lintian (default level) has nothing to say about them.  Prints TAP.
set -u
cd "$(dirname "$0")/../.." || exit 1
# shellcheck source=tests/tap.sh
. tests/tap.sh
dir=${1:-build/deb}
ver=$(cat VERSION)
arch=$(dpkg --print-architecture)
soname=$(sed -n 's/^LIB_SONAME := //p' Makefile)
for p in dlock-dkms_${ver}_all libdlock${soname##*.so.}_${ver}_${arch} libdlock-dev_${ver}_${arch} dlockctl_${ver}_${arch} python3-dlock_${ver}_all; do
	[ -f "$dir/$p.deb" ]
	ok $? "make deb built $p.deb"
done
# lintian warns about running as root, which says nothing of the packages.
out=$(lintian "$dir"/dlock_"${ver}"_*.changes 2>&1 | grep -v 'running with root privileges is not recommended')
ok "$([ -z "$out" ] && echo 0 || echo 1)" "lintian has no complaint"
[ -z "$out" ] || sed 's/^/# /' <<<"$out"
echo "1..$n"
[ $failed = 0 ]
