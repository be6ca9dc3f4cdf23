#!/usr/bin/env bash
# dlockctl against the real module, in the guest.  Prints TAP.
set -u
: "${DLOCKCTL:?path of the dlockctl binary}"
: "${DLOCK_KO:?path of dlock.ko}"
version=$(cat VERSION)
# shellcheck source=tests/tap.sh
. "$(dirname "$0")/../tap.sh"

# check DESC CMD...: tap.sh's ok on CMD's exit status.
check() {
	local desc=$1
	shift
	"$@"
	ok $? "$desc"
}

out=$("$DLOCKCTL" status 2>&1)
rc=$?
check "status exits 0 with the module loaded" [ "$rc" = 0 ]
check "status shows the module version" grep -qx "version: $version" <<<"$out"
check "status shows zero leases" grep -qx "leases: 0" <<<"$out"

json=$("$DLOCKCTL" -j status)
check "status -j prints valid JSON with the version" python3 -c '
import json, sys
d = json.loads(sys.argv[1])
assert d["version"] == sys.argv[2], d
assert d["leases"] == 0 and d["waiters"] == 0 and d["requests"] > 0, d
' "$json" "$version"

rmmod dlock
out=$("$DLOCKCTL" status 2>&1)
rc=$?
check "status exits 3 once the module is unloaded" [ "$rc" = 3 ]
check "status says the module is not loaded" grep -q "not loaded" <<<"$out"
insmod "$DLOCK_KO"
check "status works again after reload" "$DLOCKCTL" -j status >/dev/null

echo "1..$n"
[ "$failed" = 0 ]
