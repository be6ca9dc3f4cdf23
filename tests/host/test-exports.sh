#!/usr/bin/env bash
# libdlock.so.1 exports exactly the functions dlock.h declares, each with a
# symbol version of libdlock.map, and a program that uses a function added
# after 0.1.0 asks the loader for that function's version node, so that it
# cannot start against an older libdlock.so.1.  Prints TAP.
set -u
cd "$(dirname "$0")/../.." || exit 1
# shellcheck source=tests/tap.sh
. tests/tap.sh
so=${LIBDLOCK_SO:-build/libdlock.so.1}

declared=$(grep -E '^(int|void|const char|struct [a-z_]+|uint[0-9]+_t|size_t|ssize_t|long|unsigned|bool)[ *]+dlock_[a-z0-9_]+\(' \
	userspace/lib/dlock.h | grep -oE 'dlock_[a-z0-9_]+\(' | tr -d '(' | sort)
# Functions the library defines, with their versions: "dlock_open@@LIBDLOCK_1".
exports=$(nm -D --defined-only "$so" | awk '$2 == "T" {print $3}' | sort)
names=$(cut -d@ -f1 <<<"$exports" | sort)

missing=$(comm -23 <(echo "$declared") <(echo "$names") | tr '\n' ' ')
ok "$([ -n "$declared" ] && [ -z "$missing" ] && echo 0 || echo 1)" \
	"every function of dlock.h is exported ($(wc -w <<<"$declared") declared; missing: ${missing:-none})"
extra=$(comm -13 <(echo "$declared") <(echo "$names") | tr '\n' ' ')
ok "$([ -z "$extra" ] && echo 0 || echo 1)" "nothing else is exported (extra: ${extra:-none})"
unversioned=$(grep -v '@@LIBDLOCK_' <<<"$exports" | tr '\n' ' ')
ok "$([ -z "$unversioned" ] && echo 0 || echo 1)" "every export has a LIBDLOCK_ version (without: ${unversioned:-none})"
v11=$(grep '@@LIBDLOCK_1\.1$' <<<"$exports" | sed 's/@.*//' | tr '\n' ' ')
[ "$v11" = "dlock_cluster_free dlock_get_cluster dlock_set_cluster " ]
ok $? "the cluster functions, added after 0.1.0, are LIBDLOCK_1.1 (got: ${v11:-none})"
v12=$(grep '@@LIBDLOCK_1\.2$' <<<"$exports" | sed 's/@.*//' | tr '\n' ' ')
[ "$v12" = "dlock_cluster_auth_free dlock_get_cluster_auth dlock_set_cluster_keyed dlock_set_cluster_sealed " ]
ok $? "the cluster key functions, added after the cluster ones, are LIBDLOCK_1.2 (got: ${v12:-none})"
v13=$(grep '@@LIBDLOCK_1\.3$' <<<"$exports" | sed 's/@.*//' | tr '\n' ' ')
[ "$v13" = "dlock_set_linearizable " ]
ok $? "linearizable reads, added after the keys, are LIBDLOCK_1.3 (got: ${v13:-none})"

# A client of dlock_get_cluster() needs LIBDLOCK_1.1 from the loader; one
# that uses 0.1.0's functions only needs LIBDLOCK_1.
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
cat >"$tmp/c.c" <<'C'
#include <dlock.h>
int main(void)
{
	struct dlock *d;
	struct dlock_cluster *c;

	if (dlock_open(&d))
		return 3;
#ifdef CLUSTER
	if (!dlock_get_cluster(d, &c))
		dlock_cluster_free(c);
#endif
	dlock_close(d);
	return 0;
}
C
need() {
	readelf -V "$1" 2>/dev/null | awk '/Version needs/ {on = 1} on' |
		grep -oE 'Name: LIBDLOCK_[0-9.]+' | sed 's/Name: //' | sort -u | tr '\n' ' '
}
${CC:-cc} -DCLUSTER -Iuapi -Iuserspace/lib -o "$tmp/new" "$tmp/c.c" "$so" 2>"$tmp/err"
got=$(need "$tmp/new")
ok "$([ "$got" = "LIBDLOCK_1 LIBDLOCK_1.1 " ] && echo 0 || echo 1)" \
	"a program calling dlock_get_cluster needs LIBDLOCK_1.1 (needs: ${got:-none}$(head -c 200 "$tmp/err"))"
${CC:-cc} -Iuapi -Iuserspace/lib -o "$tmp/old" "$tmp/c.c" "$so" 2>"$tmp/err"
got=$(need "$tmp/old")
ok "$([ "$got" = "LIBDLOCK_1 " ] && echo 0 || echo 1)" \
	"a program of 0.1.0's functions needs LIBDLOCK_1 only (needs: ${got:-none}$(head -c 200 "$tmp/err"))"

echo "1..$n"
[ "$failed" = 0 ]
