#!/usr/bin/env bash
# The version is written down in three places that must agree with VERSION:
# dkms.conf (DKMS names /usr/src/dlock-<version> after it) and
# debian/changelog (the packages' version).  Prints TAP.
set -u
cd "$(dirname "$0")/../.." || exit 1
# shellcheck source=tests/tap.sh
. tests/tap.sh
ver=$(cat VERSION)
dkms=$(sed -n 's/^PACKAGE_VERSION="\(.*\)"$/\1/p' dkms.conf)
ok "$([ "$dkms" = "$ver" ] && echo 0 || echo 1)" "dkms.conf PACKAGE_VERSION ($dkms) is VERSION ($ver)"
deb=$(dpkg-parsechangelog -S Version 2>/dev/null)
ok "$([ "${deb%%-*}" = "$ver" ] && echo 0 || echo 1)" "debian/changelog's version ($deb) is VERSION ($ver)"
echo "1..$n"
[ $failed = 0 ]
