// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * libdlock handles: opening, closing, forgetting one in a forked child, and
 * what a handle listens to (watch, lost leases, overflows).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <linux/netlink.h>
#include <netlink/netlink.h>
#include <netlink/genl/ctrl.h>
#include <netlink/genl/genl.h>

#include "internal.h"

#ifndef SOL_NETLINK
#define SOL_NETLINK 270
#endif

/* Recursive: callbacks may release, renew and set values on their handle. */
static int dlock_mutex_init(struct dlock *d)
{
	pthread_mutexattr_t a;
	int err;

	pthread_mutexattr_init(&a);
	pthread_mutexattr_settype(&a, PTHREAD_MUTEX_RECURSIVE);
	err = pthread_mutex_init(&d->mu, &a);
	pthread_mutexattr_destroy(&a);
	return -err;
}

int dlock_open(struct dlock **out)
{
	struct dlock *d;
	int one = 1;
	int err;

	*out = NULL;
	d = calloc(1, sizeof(*d));
	if (!d)
		return -ENOMEM;
	d->ka_wake_fd = -1;
	d->sk = nl_socket_alloc();
	if (!d->sk) {
		err = -ENOMEM;
		goto err_free;
	}
	err = genl_connect(d->sk);
	if (err < 0) {
		err = -EPROTONOSUPPORT;
		goto err_sock;
	}
	/* Our promise, whatever the libnl version: close-on-exec. */
	err = dlock_set_inherit(d, 0);
	if (err)
		goto err_sock;
	/*
	 * Room for many notifications before the kernel has to drop any
	 * (each costs about a kilobyte of receive buffer); see dlock_resync().
	 */
	nl_socket_set_buffer_size(d->sk, 4 << 20, 0);
	/* Ask for the kernel's explanations of rejected requests. */
	setsockopt(nl_socket_get_fd(d->sk), SOL_NETLINK, NETLINK_EXT_ACK,
		   &one, sizeof(one));
	d->family = genl_ctrl_resolve(d->sk, DLOCK_GENL_NAME);
	if (d->family < 0) {
		err = d->family == -NLE_OBJ_NOTFOUND ? -ENOENT : -EIO;
		goto err_sock;
	}
	d->events_grp = genl_ctrl_resolve_grp(d->sk, DLOCK_GENL_NAME,
					      DLOCK_MCGRP_EVENTS);
	d->admin_grp = genl_ctrl_resolve_grp(d->sk, DLOCK_GENL_NAME,
					     DLOCK_MCGRP_EVENTS_ADMIN);
	d->cb = dlock_receive_cb(d);
	if (!d->cb) {
		err = -ENOMEM;
		goto err_sock;
	}
	nl_socket_set_nonblocking(d->sk);
	/*
	 * Two syscalls a request, not six: no acknowledgement where a reply
	 * says as much (errors come anyway), and no MSG_PEEK before each read
	 * (replies and notifications are small, a 4 KiB buffer holds any;
	 * GET and list, which can be big, peek).
	 */
	nl_socket_disable_auto_ack(d->sk);
	nl_socket_disable_msg_peek(d->sk);
	nl_socket_set_msg_buf_size(d->sk, 4096);
	d->next_cookie = 1;
	err = dlock_mutex_init(d);
	if (err)
		goto err_cb;
	*out = d;
	return 0;

err_cb:
	nl_cb_put(d->cb);

err_sock:
	nl_socket_free(d->sk);
err_free:
	free(d);
	return err;
}

/* Frees @d and closes its socket, touching neither its lock nor its thread. */
static void dlock_free(struct dlock *d)
{
	struct dlock_wait *w;

	while ((w = d->waits)) {
		d->waits = w->next;
		free(w);
	}
	dlock_ka_free(d);
	free(d->watch_prefix);
	nl_cb_put(d->cb);
	nl_socket_free(d->sk);
	free(d);
}

void dlock_close(struct dlock *d)
{
	if (!d)
		return;
	dlock_ka_stop_thread(d);
	pthread_mutex_destroy(&d->mu);
	dlock_free(d);
}

/*
 * In a forked child the keep-alive thread does not exist and the lock may
 * have been taken by it at fork(): use neither.  Closing this copy of the
 * socket ends nothing while the parent holds its own.
 */
void dlock_forget(struct dlock *d)
{
	if (!d)
		return;
	if (d->ka_wake_fd >= 0)
		close(d->ka_wake_fd);
	dlock_free(d);
}

/* ---- watching --------------------------------------------------------- */

int dlock_watch(struct dlock *d, const char *prefix, dlock_event_cb cb,
		void *arg)
{
	char *p;
	int err;

	if (d->events_grp < 0)
		return -ENOENT;
	p = strdup(prefix ? prefix : "");
	if (!p)
		return -ENOMEM;
	dlock_lock(d);
	/* Owners shown if the kernel lets us in; else the public group. */
	err = d->admin_grp < 0 ? -1 :
	      nl_socket_add_membership(d->sk, d->admin_grp);
	if (err < 0)
		err = nl_socket_add_membership(d->sk, d->events_grp);
	if (err < 0) {
		dlock_unlock(d);
		free(p);
		return -EIO;
	}
	free(d->watch_prefix);
	d->watch_prefix = p;
	d->watch_prefix_len = strlen(p);
	d->event_cb = cb;
	d->event_arg = arg;
	dlock_unlock(d);
	return 0;
}

void dlock_on_lost(struct dlock *d, dlock_lost_cb cb, void *arg)
{
	dlock_lock(d);
	d->lost_cb = cb;
	d->lost_arg = arg;
	dlock_unlock(d);
}

void dlock_on_overflow(struct dlock *d, dlock_overflow_cb cb, void *arg)
{
	dlock_lock(d);
	d->overflow_cb = cb;
	d->overflow_arg = arg;
	d->told_overruns = d->overruns;
	dlock_unlock(d);
}

void dlock_set_linearizable(struct dlock *d, int on)
{
	dlock_lock(d);
	d->linearizable = on;
	dlock_unlock(d);
}

int dlock_set_inherit(struct dlock *d, int inherit)
{
	int fd = dlock_fd(d);
	int flags = fcntl(fd, F_GETFD);

	if (flags < 0)
		return -errno;
	flags = inherit ? flags & ~FD_CLOEXEC : flags | FD_CLOEXEC;
	return fcntl(fd, F_SETFD, flags) < 0 ? -errno : 0;
}
