// SPDX-License-Identifier: GPL-2.0
/*
 * A client as a developer would write one against an installed libdlock:
 * built with nothing but `pkg-config --cflags --libs dlock` by
 * tests/host/test-install.sh and tests/selftests/packages.sh.  It uses a
 * name of the uapi header too, so the build also proves that the Cflags
 * reach <linux/dlock.h> in dlock's own include directory.  Takes and
 * releases one lock; exits 3 when the module is not there.
 */
#include <errno.h>
#include <stdio.h>
#include <dlock.h>
#include <linux/dlock.h>

int main(void)
{
	struct dlock_acquire_opts o = { .flags = DLOCK_F_NO_TTL | DLOCK_F_TRY };
	struct dlock_lease l;
	struct dlock *d;
	int err;

	err = dlock_open(&d);
	if (err) {
		printf("%s: %s\n", DLOCK_GENL_NAME, dlock_strerror(NULL, err));
		return err == -ENOENT ? 3 : 1;
	}
	err = dlock_acquire(d, "pkgconfig-prog", &o, &l);
	if (!err)
		err = dlock_release(d, "pkgconfig-prog", NULL);
	printf("%s: %s\n", DLOCK_GENL_NAME,
	       err ? dlock_strerror(d, err) : "lock taken and released");
	dlock_close(d);
	return err ? 1 : 0;
}
