/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * libdlock: the client library of dlock, a lock service in the Linux kernel.
 *
 * Errors: every call that can fail returns 0 (or a positive count) on success
 * and a negative errno on failure.  dlock_strerror() turns that value into a
 * message; when the kernel explained a rejection (netlink extended ack), the
 * message is the kernel's own text.
 *
 * Thread safety: a struct dlock handle owns one netlink socket and must not
 * be used by two threads at once; open one handle per thread (handles are
 * cheap).  Distinct handles are fully independent.
 */
#ifndef LIBDLOCK_H
#define LIBDLOCK_H

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* An open connection to the dlock module of the caller's network namespace. */
struct dlock;

/* What dlock_status() reports about the caller's network namespace. */
struct dlock_status {
	char version[32];	/* version string of the loaded module */
	uint64_t leases;	/* leases currently held */
	uint64_t waiters;	/* requests currently queued */
	uint64_t requests;	/* requests served by this namespace's table */
	uint64_t netns_cookie;	/* identifies the network namespace */
};

/*
 * dlock_open() - connect to the dlock module.
 * @out: receives the handle on success.
 *
 * Return: 0, or -ENOENT when the dlock module is not loaded (its generic
 * netlink family does not exist), or another negative errno.
 */
int dlock_open(struct dlock **out);

/* dlock_close() - close a handle; NULL is accepted and ignored. */
void dlock_close(struct dlock *d);

/*
 * dlock_get_status() - read the module version and the counters of the
 * caller's network namespace.
 * Return: 0 or a negative errno.
 */
int dlock_get_status(struct dlock *d, struct dlock_status *st);

/*
 * dlock_strerror() - describe an error returned by a libdlock call.
 * @d: the handle the call was made on, or NULL (for dlock_open() failures).
 * @err: the negative errno the call returned.
 *
 * Return: the kernel's extended-ack message for the last failed request on
 * @d if it sent one, else a description of @err.  The string stays valid
 * until the next call on @d.
 */
const char *dlock_strerror(const struct dlock *d, int err);

/* dlock_version() - version of this library, e.g. "0.1.0". */
const char *dlock_version(void);

#ifdef __cplusplus
}
#endif

#endif /* LIBDLOCK_H */
