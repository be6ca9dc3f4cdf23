// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * libdlock keep-alive: leases the library renews by itself, at a third of
 * their granted TTL, so that two renewals can fail or come late before the
 * lease runs out.  Someone has to run them: the application's event loop
 * (dlock_dispatch() when dlock_next_timeout() says so), a blocking call on
 * the handle while it waits, or the handle's keep-alive thread.
 *
 * A lease that cannot be renewed any more is reported once, through the
 * lost-lease callback: by the kernel's LOST message for a socket-bound one
 * (which also ends its keep-alive here, see dlock_ka_lost()), by the failed
 * renewal for a detached one, about which the kernel sends nothing.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <time.h>
#include <unistd.h>

#include "internal.h"

static int64_t dlock_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static int64_t dlock_ka_period_ns(uint32_t ttl_ms)
{
	return (int64_t)ttl_ms * 1000000 / 3;
}

static void dlock_ka_wake(struct dlock *d)
{
	uint64_t one = 1;

	if (d->ka_wake_fd >= 0 &&
	    write(d->ka_wake_fd, &one, sizeof(one)) != sizeof(one)) {
		/* Full counter: the thread has a wake-up pending anyway. */
	}
}

static struct dlock_ka **dlock_ka_find(struct dlock *d, const char *name,
				       const char *owner, uint64_t tag)
{
	struct dlock_ka **pk;

	for (pk = &d->kas; *pk; pk = &(*pk)->next) {
		if (strcmp((*pk)->name, name))
			continue;
		if (owner ? (*pk)->owner && !strcmp((*pk)->owner, owner) :
			    !(*pk)->owner && (*pk)->tag == tag)
			return pk;
	}
	return NULL;
}

static void dlock_ka_unlink(struct dlock_ka **pk)
{
	struct dlock_ka *k = *pk;

	*pk = k->next;
	free(k->owner);
	free(k);
}

int dlock_ka_add(struct dlock *d, const char *name, const char *owner,
		 uint64_t tag, const struct dlock_lease *lease)
{
	struct dlock_ka **pk = dlock_ka_find(d, name, owner, tag);
	struct dlock_ka *k;

	if (pk) {
		k = *pk;	/* a reentrant grant: the same lease */
	} else {
		k = calloc(1, sizeof(*k));
		if (!k)
			return -ENOMEM;
		if (owner) {
			k->owner = strdup(owner);
			if (!k->owner) {
				free(k);
				return -ENOMEM;
			}
		}
		snprintf(k->name, sizeof(k->name), "%s", name);
		k->tag = owner ? 0 : tag;
		k->next = d->kas;
		d->kas = k;
	}
	if (lease->token)
		k->token = lease->token;
	k->ttl_ms = lease->ttl_ms;
	k->due_ns = dlock_now_ns() + dlock_ka_period_ns(k->ttl_ms);
	dlock_ka_wake(d);
	return 0;
}

void dlock_ka_released(struct dlock *d, const char *name,
		       const struct dlock_owner *owner)
{
	const char *str = owner ? owner->str : NULL;
	struct dlock_ka **pk;

	pk = dlock_ka_find(d, name, str,
			   str ? 0 : dlock_default_tag(owner ? owner->tag : 0));
	if (pk)
		dlock_ka_unlink(pk);
}

void dlock_ka_lost(struct dlock *d, const char *name, uint64_t tag)
{
	struct dlock_ka **pk = dlock_ka_find(d, name, NULL, tag);

	if (pk)
		dlock_ka_unlink(pk);
}

/* Renews lease @k; one that is gone is reported and forgotten. */
static void dlock_ka_renew(struct dlock *d, struct dlock_ka *k, int64_t now)
{
	char name[DLOCK_NAME_MAX + 1], *owner = NULL;
	uint64_t tag = k->tag;
	struct dlock_owner own = { .tag = tag };
	struct dlock_lost ls = { .name = name, .reason = DLOCK_LOST_EXPIRED };
	struct dlock_ka **pk;
	char errmsg[sizeof(d->errmsg)];
	int err, saved = d->err;

	/* The request's callbacks may end @k: keep what names it. */
	snprintf(name, sizeof(name), "%s", k->name);
	if (k->owner) {
		owner = strdup(k->owner);
		if (!owner) {
			k->due_ns = now + dlock_ka_period_ns(k->ttl_ms) / 3;
			return;
		}
	}
	own.str = owner;
	ls.tag = tag;
	ls.token = k->token;
	/* The application's last error stays what dlock_strerror() tells. */
	memcpy(errmsg, d->errmsg, sizeof(errmsg));
	err = dlock_renew(d, name, &own, k->ttl_ms);
	d->err = saved;
	memcpy(d->errmsg, errmsg, sizeof(errmsg));
	pk = dlock_ka_find(d, name, owner, tag);
	if (pk) {
		k = *pk;
		if (err == -ENOENT || err == -EPERM) {
			/* Not ours any more, and no LOST message said so. */
			dlock_ka_unlink(pk);
			if (d->lost_cb) {
				d->ncallbacks++;
				d->lost_cb(d, &ls, d->lost_arg);
			}
		} else {
			/* Failed for want of memory or such: try again soon. */
			k->due_ns = now + dlock_ka_period_ns(k->ttl_ms) /
				    (err ? 3 : 1);
		}
	}
	free(owner);
}

void dlock_ka_run_due(struct dlock *d)
{
	int64_t now = dlock_now_ns();
	struct dlock_ka *k;

	for (;;) {
		/* Renewing runs callbacks, which may change the list. */
		for (k = d->kas; k; k = k->next)
			if (k->due_ns <= now)
				break;
		if (!k)
			return;
		dlock_ka_renew(d, k, now);
	}
}

int dlock_ka_timeout(struct dlock *d)
{
	int64_t first = INT64_MAX, left;
	struct dlock_ka *k;

	for (k = d->kas; k; k = k->next)
		if (k->due_ns < first)
			first = k->due_ns;
	if (first == INT64_MAX)
		return -1;
	left = first - dlock_now_ns();
	if (left <= 0)
		return 0;
	/* Rounded up: waking early would find nothing due and spin. */
	left = (left + 999999) / 1000000;
	return left > 100000000 ? 100000000 : (int)left;
}

int dlock_next_timeout(struct dlock *d)
{
	int t;

	dlock_lock(d);
	t = dlock_ka_timeout(d);
	if (d->need_resync && (t < 0 || t > 100))
		t = 100;
	dlock_unlock(d);
	return t;
}

/* The token of @name's lease held by (@owner or @tag), 0 if not found. */
static uint64_t dlock_ka_token(struct dlock *d, const char *name,
			       const char *owner, uint64_t tag)
{
	struct dlock_lock_info *li;
	uint64_t token = 0;
	size_t i;

	if (dlock_get(d, name, &li))
		return 0;
	for (i = 0; i < li->n_holders && !token; i++) {
		const struct dlock_entry *e = &li->holders[i];

		if (owner ? e->owner_len == strlen(owner) &&
			    !memcmp(e->owner, owner, e->owner_len) :
			    !e->owner_len && e->tag == tag &&
			    (uint32_t)e->session ==
				    nl_socket_get_local_port(d->sk))
			token = e->token;
	}
	dlock_lock_info_free(li);
	return token;
}

static int dlock_keepalive_locked(struct dlock *d, const char *name,
				  const struct dlock_owner *owner,
				  uint32_t ttl_ms)
{
	const char *str = owner ? owner->str : NULL;
	uint64_t tag = str ? 0 : dlock_default_tag(owner ? owner->tag : 0);
	struct dlock_owner own = { .str = str, .tag = tag };
	struct dlock_lease lease = { .ttl_ms = ttl_ms };
	int err;

	/* Renewing at once proves the lease is ours, and restarts its TTL. */
	err = dlock_renew(d, name, &own, ttl_ms);
	if (err)
		return err;
	lease.token = dlock_ka_token(d, name, str, tag);
	return dlock_ka_add(d, name, str, tag, &lease);
}

int dlock_keepalive(struct dlock *d, const char *name,
		    const struct dlock_owner *owner, uint32_t ttl_ms)
{
	int err;

	if (dlock_check_name(name) || !ttl_ms)
		return -EINVAL;
	dlock_lock(d);
	err = dlock_keepalive_locked(d, name, owner, ttl_ms);
	dlock_unlock(d);
	return err;
}

int dlock_keepalive_stop(struct dlock *d, const char *name,
			 const struct dlock_owner *owner)
{
	const char *str = owner ? owner->str : NULL;
	struct dlock_ka **pk;

	if (dlock_check_name(name))
		return -EINVAL;
	dlock_lock(d);
	pk = dlock_ka_find(d, name, str,
			   str ? 0 : dlock_default_tag(owner ? owner->tag : 0));
	if (pk)
		dlock_ka_unlink(pk);
	dlock_unlock(d);
	return pk ? 0 : -ENOENT;
}

/*
 * The keep-alive thread: the handle's event loop while the application
 * runs none.  It waits unlocked, so the application's calls go first; a
 * blocking call keeps the handle locked and renews by itself meanwhile.
 */
static void *dlock_ka_main(void *arg)
{
	struct dlock *d = arg;
	struct pollfd p[2] = {
		{ .fd = dlock_fd(d), .events = POLLIN },
		{ .fd = d->ka_wake_fd, .events = POLLIN },
	};
	char errmsg[sizeof(d->errmsg)];
	int saved, timeout, err;
	uint64_t v;

	for (;;) {
		dlock_lock(d);
		if (d->ka_stop) {
			dlock_unlock(d);
			return NULL;
		}
		saved = d->err;
		memcpy(errmsg, d->errmsg, sizeof(errmsg));
		err = dlock_dispatch(d);
		d->err = saved;
		memcpy(d->errmsg, errmsg, sizeof(errmsg));
		timeout = dlock_next_timeout(d);
		dlock_unlock(d);
		/* A failed socket stays readable: do not spin on it. */
		p[0].fd = err < 0 ? -1 : dlock_fd(d);
		if (poll(p, 2, timeout) > 0 && p[1].revents & POLLIN &&
		    read(d->ka_wake_fd, &v, sizeof(v)) < 0) {
			/* EAGAIN: another wake-up took it */
		}
	}
}

static int dlock_ka_start_thread(struct dlock *d)
{
	sigset_t all, old;
	int err;

	if (d->ka_thread_on)
		return 0;
	d->ka_wake_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (d->ka_wake_fd < 0)
		return -errno;
	d->ka_stop = false;
	/* The application's signals are not for our thread to take. */
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	err = -pthread_create(&d->ka_thread, NULL, dlock_ka_main, d);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (err) {
		close(d->ka_wake_fd);
		d->ka_wake_fd = -1;
		return err;
	}
	d->ka_thread_on = true;
	return 0;
}

void dlock_ka_stop_thread(struct dlock *d)
{
	if (!d->ka_thread_on)
		return;
	dlock_lock(d);
	d->ka_stop = true;
	dlock_ka_wake(d);
	dlock_unlock(d);
	pthread_join(d->ka_thread, NULL);
	close(d->ka_wake_fd);
	d->ka_wake_fd = -1;
	d->ka_thread_on = false;
}

int dlock_keepalive_thread(struct dlock *d, int run)
{
	/* Joining ourselves from a callback would never return. */
	if (d->ka_thread_on && pthread_equal(pthread_self(), d->ka_thread))
		return -EDEADLK;
	if (run)
		return dlock_ka_start_thread(d);
	dlock_ka_stop_thread(d);
	return 0;
}

void dlock_ka_free(struct dlock *d)
{
	while (d->kas)
		dlock_ka_unlink(&d->kas);
}
