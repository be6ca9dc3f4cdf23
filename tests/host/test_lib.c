// SPDX-License-Identifier: GPL-2.0
/*
 * libdlock error paths that need no dlock module.  Run on a kernel without
 * the module (the host), dlock_open() must fail cleanly with -ENOENT and a
 * message that tells the user what is missing.
 */
#include <errno.h>
#include <string.h>

#include "dlock.h"
#include "tap.h"

int main(void)
{
	struct dlock *d = (struct dlock *)&d;
	int err;

	err = dlock_open(&d);
	if (err == 0) {
		/* A kernel with dlock loaded: this suite is not for it. */
		tap_ok(0, "dlock_open() fails without the module (it succeeded: module loaded?)");
		dlock_close(d);
		return tap_done();
	}
	tap_ok(err == -ENOENT, "dlock_open() without the module returns -ENOENT (got %d)", err);
	tap_ok(d == NULL, "dlock_open() failure leaves the handle NULL");
	tap_ok(strstr(dlock_strerror(NULL, err), "not loaded") != NULL,
	       "dlock_strerror() says the module is not loaded: \"%s\"",
	       dlock_strerror(NULL, err));
	tap_ok(!strcmp(dlock_strerror(NULL, -EPERM), strerror(EPERM)),
	       "dlock_strerror() falls back to the errno text");
	dlock_close(NULL);
	tap_ok(1, "dlock_close(NULL) is a no-op");
	return tap_done();
}
