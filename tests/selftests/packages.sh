#!/usr/bin/env bash
# The Debian packages in the VM, as an operator uses them: install the five
# .debs, let `dlockctl status` load the module through its genetlink alias,
# set a limit at boot in /etc/modprobe.d, build a C program with nothing but
# `pkg-config --cflags --libs dlock`, use the Python binding, `dlockctl
# elect`/`observe` and the dlock_grant tracepoint with only what the packages
# installed, then purge and find nothing of dlock left (files, Python
# module, DKMS state, module, depmod's alias).  Prints TAP.
#
# Runs in the guest with the module NOT loaded (tests/vm/run without --ko),
# from `make check-packages`, which gives:
#   DLOCK_DEB_DIR     the .debs (make deb)
#   DLOCK_DKMS_BUILT  DKMS's build of the module for this kernel: the
#                     <kernel>/<arch> directory of a DKMS tree, made on the
#                     host by `dkms build` from dlock-dkms's own sources.
# Compiling the module in the guest would take minutes under emulation, so
# the kernel headers are hidden while dlock-dkms is installed (its postinst
# then skips the build, as on a machine without headers) and DKMS's host
# build is registered in /var/lib/dkms before `dkms install`; everything
# after the compiler (install, depmod, autoload, remove) is DKMS's own.
set -u
cd "$(dirname "$0")/../.." || exit 1
# shellcheck source=tests/tap.sh
. tests/tap.sh
: "${DLOCK_DEB_DIR:?directory of the .debs}" "${DLOCK_DKMS_BUILT:?DKMS build of the module}"
[ "${DLOCK_VM:-}" = 1 ] || { echo "packages.sh: runs in the test VM (make check-packages)" >&2; exit 2; }

krel=$(uname -r)
ver=$(cat VERSION)
soname=$(sed -n 's/^LIB_SONAME := //p' Makefile)
# libdlock<major>, after the soname, as Debian names library packages.
pkgs="dlock-dkms libdlock${soname##*.so.} libdlock-dev dlockctl python3-dlock"
tmp=$(mktemp -d)
headers=()
kmods=
inst=
obs=
modprobe_was=$(cat /proc/sys/kernel/modprobe)

# shellcheck disable=SC2317  # run by the EXIT trap
cleanup() {
	local l
	[ -z "$obs" ] || kill "$obs" 2>/dev/null
	[ -z "$inst" ] || { echo 0 >"$inst/events/dlock/enable"; rmdir "$inst"; }
	echo "$modprobe_was" >/proc/sys/kernel/modprobe
	[ -z "$kmods" ] || { rm -r "/lib/modules/$krel/kernel" && ln -s "$kmods" "/lib/modules/$krel/kernel"; }
	for l in "${headers[@]}"; do ln -sfn "${l#*=}" "${l%%=*}"; done
	rm -rf "$tmp"
}
trap cleanup EXIT

ok "$([ ! -d /sys/module/dlock ] && ! dpkg -s dlockctl >/dev/null 2>&1 && echo 0 || echo 1)" \
	"the guest starts without dlock (module not loaded, packages not installed)"

# --- install --------------------------------------------------------------
# dkms needs /dev/fd (bash's <(...)), which udev makes on a real system
# and this VM's devtmpfs lacks.
[ -e /dev/fd ] || ln -s /proc/self/fd /dev/fd
# depmod reads every module of the kernel, over 9p under emulation: a
# minute or more each time dkms runs it.  So depmod sees only updates/ and
# the kernel modules dlock.ko needs (libchacha20poly1305 and what it
# needs, at their own paths): modules.dep must name them for the autoload
# below to load them, as on a machine with the whole tree.
deps=()
for d in $(modinfo -F depends "$DLOCK_DKMS_BUILT/module/dlock.ko"* | tr , ' '); do
	while read -r _ f _; do
		deps+=("$f")
	done < <(modprobe --show-depends "$d" | grep '^insmod ')
done
ok "$([ ${#deps[@]} -gt 0 ] && echo 0 || echo 1)" \
	"dlock.ko's kernel dependencies are found (${deps[*]##*/})"
kmods=$(readlink "/lib/modules/$krel/kernel")
rm "/lib/modules/$krel/kernel" && mkdir "/lib/modules/$krel/kernel"
for f in "${deps[@]}"; do
	rel=${f#"/lib/modules/$krel/kernel/"}
	mkdir -p "/lib/modules/$krel/kernel/${rel%/*}"
	ln -s "$kmods/$rel" "/lib/modules/$krel/kernel/$rel"
done
for b in /lib/modules/*/build; do
	[ -L "$b" ] || continue
	headers+=("$b=$(readlink "$b")")
	rm "$b"
done
# man-db's trigger would index every page (minutes under emulation).
rm -f /var/lib/man-db/auto-update
debs=()
for p in $pkgs; do debs+=("$(ls "$DLOCK_DEB_DIR/${p}_${ver}_"*.deb)"); done
DEBIAN_FRONTEND=noninteractive dpkg -i "${debs[@]}" >"$tmp/dpkg.log" 2>&1
rc=$?
ok $rc "dpkg -i $pkgs"
[ $rc = 0 ] || sed 's/^/# /' "$tmp/dpkg.log"
for l in "${headers[@]}"; do ln -sfn "${l#*=}" "${l%%=*}"; done
headers=()

dkms status -m dlock -v "$ver" 2>&1 | grep -q '^dlock/'"$ver"': added'
ok $? "dlock-dkms registered its sources with DKMS (dkms status: $(dkms status -m dlock 2>&1 | tr '\n' ' '))"

arch=$(uname -m)
mkdir -p "/var/lib/dkms/dlock/$ver/$krel"
cp -r "$DLOCK_DKMS_BUILT" "/var/lib/dkms/dlock/$ver/$krel/$arch"
dkms install -m dlock -v "$ver" -k "$krel" >"$tmp/dkms.log" 2>&1
rc=$?
ok $rc "dkms install of the module DKMS built for $krel"
[ $rc = 0 ] || sed 's/^/# /' "$tmp/dkms.log"
path=$(modinfo -n dlock 2>&1)
[[ $path == /lib/modules/$krel/updates/dkms/dlock.ko* ]]
ok $? "modinfo finds it in updates/dkms ($path)"
grep -qx 'alias net-pf-16-proto-16-family-dlock dlock' "/lib/modules/$krel/modules.alias"
ok $? "depmod indexed its genetlink family alias"

# --- autoload -------------------------------------------------------------
# The kernel runs its modprobe helper in the initial root, which in this VM
# is the initramfs (tests/vm/init stays there; our root is its /mnt/root):
# point the helper at one that enters our root.  On a real machine the
# initial root is the system's and /sbin/modprobe is found as it is.
cat >"$tmp/modprobe" <<'EOF'
#!/bin/sh
exec /bin/busybox chroot /mnt/root /sbin/modprobe "$@"
EOF
chmod +x "$tmp/modprobe"
echo "/mnt/root$tmp/modprobe" >/proc/sys/kernel/modprobe

ok "$([ ! -d /sys/module/dlock ] && echo 0 || echo 1)" "the module is not loaded before first use"
out=$(/usr/sbin/dlockctl status 2>&1)
rc=$?
ok "$([ $rc = 0 ] && [[ $out == *"version: $ver"* ]] && echo 0 || echo 1)" \
	"dlockctl status loads the module on first use (exit $rc: $(head -n 1 <<<"$out"))"
ok "$([ -d /sys/module/dlock ] && echo 0 || echo 1)" "dlock is loaded now"
missing=
for f in "${deps[@]}"; do
	m=${f##*/}
	m=${m%%.ko*}
	[ -d "/sys/module/${m//-/_}" ] || missing="$missing $m"
done
ok "$([ -z "$missing" ] && echo 0 || echo 1)" "modprobe loaded its dependencies first (missing:${missing:- none})"

# --- limits at boot, and dlockctl config across a reload --------------------
echo 'options dlock max_leases=4321' >>/etc/modprobe.d/dlock.conf
/usr/sbin/dlockctl config set --max-leases 77 >/dev/null 2>&1
v=$(/usr/sbin/dlockctl -j config | jq .max_leases)
ok "$([ "$v" = 77 ] && echo 0 || echo 1)" "dlockctl config set --max-leases 77 (now $v)"
rmmod dlock
v=$(/usr/sbin/dlockctl -j config 2>&1 | jq .max_leases 2>&1)
ok "$([ "$v" = 4321 ] && echo 0 || echo 1)" \
	"after a reload the limit is modprobe.d's (4321), not config's (got $v)"

# --- a client built with pkg-config alone ------------------------------------
flags=$(pkg-config --cflags --libs dlock)
ok $? "pkg-config --cflags --libs dlock: $flags"
# shellcheck disable=SC2086  # flags are words
gcc -Wall -Werror -o "$tmp/prog" tests/host/pkgconfig-prog.c $flags 2>"$tmp/cc.log"
rc=$?
ok $rc "a C program builds with only pkg-config's flags"
[ $rc = 0 ] || sed 's/^/# /' "$tmp/cc.log"
out=$("$tmp/prog" 2>&1)
ok $? "it takes and releases a lock ($out)"
out=$(ldd "$tmp/prog" | grep libdlock)
[[ $out =~ "$soname => "(/usr)?/lib/$(gcc -print-multiarch)/$soname ]]
ok $? "it runs on the packaged $soname ($out)"

# Everything below runs as a user of the packages would: a clean
# environment (no build tree on PATH, no LD_LIBRARY_PATH or DLOCK_LIBRARY,
# Debian's python3), from a directory outside the tree.
installed() { (cd / && env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin HOME=/root LANG=C.UTF-8 "$@"); }
multiarch=$(gcc -print-multiarch)

# --- the Python binding -------------------------------------------------------
# ctypes opens libdlock.so.1 behind dpkg's back: only python3-dlock's own
# Depends keeps the library installed as long as the binding is.
dep=$(dpkg-query -W -f='${Depends}' python3-dlock)
dpkg --dry-run -r "libdlock${soname##*.so.}" libdlock-dev >"$tmp/rm.log" 2>&1
grep -q "python3-dlock depends on libdlock${soname##*.so.}" "$tmp/rm.log" &&
	[[ $dep == *"libdlock${soname##*.so.} (= $ver)"* ]]
rc=$?
ok $rc "python3-dlock depends on exactly this libdlock (Depends: $dep); dpkg refuses to remove the library under it"
[ $rc = 0 ] || sed 's/^/# /' "$tmp/rm.log"
# Which files the interpreter used: the module python3-dlock installed, and
# the libdlock.so.1 libdlock1 installed, which ctypes found by its soname.
out=$(installed python3 -c '
import dlock
with dlock.lock("pkg/py", ttl=5) as l:
    libs = {m.split()[-1] for m in open("/proc/self/maps") if "libdlock" in m}
    print(l.token > 0, dlock.__file__, *sorted(libs))
' 2>&1)
rc=$?
ok "$([ $rc = 0 ] && [ "$out" = "True /usr/lib/python3/dist-packages/dlock/__init__.py /usr/lib/$multiarch/$soname" ] &&
	echo 0 || echo 1)" \
	"python3: import dlock; with dlock.lock(\"pkg/py\", ttl=5) takes a lock through the packaged module and library (exit $rc: $out)"
out=$(installed dlockctl -j list pkg/py 2>&1)
ok "$([ "$out" = '[]' ] && echo 0 || echo 1)" "leaving the with block released it (list: $out)"
# The binding's own guest suite, on the installed module (its TAP indented).
start=$SECONDS
installed DLOCK_PY_INSTALLED=1 python3 "$PWD/tests/selftests/python_test.py" >"$tmp/py.tap" 2>&1
rc=$?
took=$((SECONDS - start))
total=$(sed -n 's/^1\.\.//p' "$tmp/py.tap")
bad=$(grep -c '^not ok' "$tmp/py.tap")
ok "$([ $rc = 0 ] && [ "${total:-0}" -gt 0 ] && [ "$bad" = 0 ] && echo 0 || echo 1)" \
	"python_test.py with DLOCK_PY_INSTALLED=1: ${total:-no} tests, $bad failed (exit $rc, ${took}s)"
[ $rc = 0 ] || sed 's/^/# /' "$tmp/py.tap"

# --- leader election ------------------------------------------------------------
# The leader's CMD ends once observe has printed its value (or gives up
# after a minute): elect exits with CMD's status and resigns.
installed dlockctl observe pkg/svc >"$tmp/obs" 2>&1 &
obs=$!
installed dlockctl elect pkg/svc leader-pkg -- sh -c \
	"for i in \$(seq 600); do grep -qx leader-pkg $tmp/obs && exit 0; sleep 0.1; done; exit 1"
rc=$?
ok $rc "dlockctl elect pkg/svc leader-pkg: observe printed the leader's value while it led (exit $rc)"
wait_for sh -c "[ \"\$(/usr/sbin/dlockctl -j list pkg/svc)\" = '[]' ]"
ok $? "elect resigned when its command ended"
kill $obs
wait $obs 2>/dev/null
obs=
ok "$([ "$(head -n 1 "$tmp/obs")" = leader-pkg ] && echo 0 || echo 1)" \
	"observe's first line is the leader's value ($(tr '\n' ' ' <"$tmp/obs"))"

# --- tracepoints ----------------------------------------------------------------
# A trace instance of the test's own, with only dlock_grant on.
tracing=/sys/kernel/tracing
inst=$tracing/instances/dlock-packages
[ -d "$tracing/events" ] || mount -t tracefs nodev "$tracing"
rmdir "$inst" 2>/dev/null
mkdir "$inst" && echo 1 >"$inst/events/dlock/dlock_grant/enable"
ok $? "dlock:dlock_grant enabled in $inst"
installed dlockctl lock pkg/trace --ttl 60s --owner pkg-tracer >/dev/null &&
	installed dlockctl unlock pkg/trace --owner pkg-tracer
ok $? "the installed dlockctl takes and releases pkg/trace"
echo 0 >"$inst/events/dlock/dlock_grant/enable"
out=$(grep ' dlock_grant: .*name=pkg/trace ' "$inst/trace")
ok "$([ -n "$out" ] && [[ $out == *owner=pkg-tracer* ]] && echo 0 || echo 1)" \
	"the trace shows the grant (${out:-nothing})"
# An enabled event holds a reference on the module: off before the purge.
rmdir "$inst"
inst=

# --- purge ------------------------------------------------------------------
rmmod dlock 2>/dev/null
# shellcheck disable=SC2086  # package names are words
DEBIAN_FRONTEND=noninteractive dpkg -P $pkgs >"$tmp/purge.log" 2>&1
rc=$?
ok $rc "dpkg -P $pkgs"
[ $rc = 0 ] || sed 's/^/# /' "$tmp/purge.log"
left=$(dpkg -l 'dlock*' 'libdlock*' 2>/dev/null | awk '/^[a-z][a-z] / {print $2}')
ok "$([ -z "$left" ] && echo 0 || echo 1)" "dpkg knows no dlock package any more${left:+: $left}"
left=$(ls -d /usr/src/dlock* /var/lib/dkms/dlock /etc/modprobe.d/dlock.conf \
	/usr/include/dlock* /usr/lib/*/libdlock* /usr/lib/*/pkgconfig/dlock.pc \
	/usr/sbin/dlockctl /usr/share/man/man8/dlockctl.8* /usr/share/man/man3/libdlock.3* \
	/usr/share/bash-completion/completions/dlockctl /usr/share/doc/*dlock* \
	/usr/lib/python3*/dist-packages/dlock* \
	/lib/modules/*/updates/dkms/dlock.ko* 2>/dev/null)
ok "$([ -z "$left" ] && echo 0 || echo 1)" "no file of dlock is left${left:+: ${left//$'\n'/ }}"
left=$(grep -w dlock "/lib/modules/$krel/modules.alias" "/lib/modules/$krel/modules.dep")
ok "$([ -z "$left" ] && echo 0 || echo 1)" "depmod's indexes no longer name dlock${left:+: $left}"
ok "$(! modinfo dlock >/dev/null 2>&1 && [ ! -d /sys/module/dlock ] && echo 0 || echo 1)" \
	"no dlock module is loaded or can be found"

echo "1..$n"
[ $failed = 0 ]
