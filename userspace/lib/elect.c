// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * libdlock: leader election on top of the public lock calls.
 *
 * A lease gets its value only after it is granted, so an observer that
 * reads the lock on the "granted" event may find a leader without its
 * value.  The kernel sends DLOCK_EV_VALUE once the value is set, whoever
 * set it and however: observers read NAME again on every event of NAME,
 * and the read after the value event sees the value.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <poll.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "dlock.h"

struct dlock_observer {
	struct dlock *d;
	char name[DLOCK_NAME_MAX + 1];
	size_t name_len;
	bool dirty;		/* an event came: read the lock again */
	bool reported;		/* a leader (or none) was reported */
	struct dlock_leader last;
	unsigned char value[DLOCK_VALUE_MAX];
};

static int elect_check_name(const char *name)
{
	size_t len = name ? strlen(name) : 0;

	return len && len <= DLOCK_NAME_MAX ? 0 : -EINVAL;
}

/* The kernel's value event tells the observers. */
static int elect_publish(struct dlock *d, const char *name, uint64_t tag,
			 const void *value, size_t len)
{
	struct dlock_owner own = { .tag = tag };
	int err;

	if (!value || !len || len > DLOCK_VALUE_MAX)
		return -EINVAL;
	err = dlock_set_value(d, name, &own, value, len);
	return err < 0 ? err : 0;
}

int dlock_campaign(struct dlock *d, const char *name, const void *value,
		   size_t len, const struct dlock_campaign_opts *opts,
		   struct dlock_lease *lease)
{
	static const struct dlock_campaign_opts none;
	struct dlock_acquire_opts o = { .mode = DLOCK_MODE_EXCLUSIVE };
	struct dlock_owner own;
	int err;

	if (!opts)
		opts = &none;
	if (elect_check_name(name) || !value || !len ||
	    len > DLOCK_VALUE_MAX ||
	    (opts->flags & ~(uint32_t)(DLOCK_F_TRY | DLOCK_LIB_FLAGS)) ||
	    ((opts->flags & DLOCK_F_KEEPALIVE) && !opts->ttl_ms))
		return -EINVAL;
	o.ttl_ms = opts->ttl_ms;
	o.flags = opts->flags | (opts->ttl_ms ? 0 : DLOCK_F_NO_TTL);
	o.wait_ms = opts->wait_ms;
	o.tag = opts->tag;
	err = dlock_acquire(d, name, &o, lease);
	if (err)
		return err;
	err = elect_publish(d, name, opts->tag, value, len);
	if (err) {
		/* A leader nobody can see would lead for nothing. */
		own.str = NULL;
		own.tag = opts->tag;
		dlock_release(d, name, &own);
	}
	return err;
}

int dlock_proclaim(struct dlock *d, const char *name, uint64_t tag,
		   const void *value, size_t len)
{
	if (elect_check_name(name))
		return -EINVAL;
	return elect_publish(d, name, tag, value, len);
}

int dlock_resign(struct dlock *d, const char *name, uint64_t tag)
{
	struct dlock_owner own = { .tag = tag };
	int err;

	if (elect_check_name(name))
		return -EINVAL;
	err = dlock_release(d, name, &own);
	return err < 0 ? err : 0;
}

/* ---- observing ---------------------------------------------------------- */

static void observe_event(struct dlock *d, const struct dlock_event *ev,
			  void *arg)
{
	struct dlock_observer *o = arg;

	(void)d;
	/* The watch is on the prefix NAME: it also sees NAMEother. */
	if (ev->name_len == o->name_len)
		o->dirty = true;
}

/* Events were dropped: the leader may have changed unseen. */
static void observe_overflow(struct dlock *d, void *arg)
{
	struct dlock_observer *o = arg;

	(void)d;
	o->dirty = true;
}

int dlock_observe(struct dlock *d, const char *name,
		  struct dlock_observer **out)
{
	struct dlock_observer *o;
	int err;

	if (elect_check_name(name))
		return -EINVAL;
	o = calloc(1, sizeof(*o));
	if (!o)
		return -ENOMEM;
	o->d = d;
	o->name_len = strlen(name);
	memcpy(o->name, name, o->name_len + 1);
	/* Subscribe first, then read: no change can fall in between. */
	o->dirty = true;
	err = dlock_watch(d, name, observe_event, o);
	if (err) {
		free(o);
		return err;
	}
	dlock_on_overflow(d, observe_overflow, o);
	*out = o;
	return 0;
}

/* The leader now, in @cur (its value in @buf). */
static int observe_read(struct dlock_observer *o, struct dlock_leader *cur,
			unsigned char *buf)
{
	struct dlock_lock_info *li;
	const struct dlock_entry *h;
	int err;

	memset(cur, 0, sizeof(*cur));
	err = dlock_get(o->d, o->name, &li);
	if (err == -ENOENT)
		return 0;
	if (err)
		return err;
	h = li->n_holders ? &li->holders[0] : NULL;
	/* Granted but not yet published: not a leader for observers yet. */
	if (h && (h->hidden || h->value_len)) {
		cur->present = 1;
		cur->hidden = h->hidden;
		cur->token = h->token;
		cur->uid = h->uid;
		cur->pid = h->pid;
		memcpy(cur->comm, h->comm, sizeof(cur->comm));
		cur->value_len = h->value_len > DLOCK_VALUE_MAX ?
				 DLOCK_VALUE_MAX : h->value_len;
		if (cur->value_len)
			memcpy(buf, h->value, cur->value_len);
		cur->value = buf;
	}
	dlock_lock_info_free(li);
	return 0;
}

static bool observe_same(const struct dlock_leader *a,
			 const struct dlock_leader *b)
{
	if (a->present != b->present)
		return false;
	return !a->present ||
	       (a->token == b->token && a->hidden == b->hidden &&
		a->value_len == b->value_len &&
		!memcmp(a->value, b->value, a->value_len));
}

static int64_t observe_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000LL + ts.tv_nsec / 1000000;
}

int dlock_observe_next(struct dlock_observer *o, int timeout_ms,
		       struct dlock_leader *leader)
{
	int64_t deadline = timeout_ms > 0 ? observe_now_ms() + timeout_ms : 0;
	unsigned char buf[DLOCK_VALUE_MAX];
	struct dlock_leader cur;
	struct pollfd p;
	int err, left;

	for (;;) {
		/* Messages already received: their callbacks set dirty. */
		err = dlock_dispatch(o->d);
		if (err < 0)
			return err;
		if (o->dirty) {
			o->dirty = false;
			err = observe_read(o, &cur, buf);
			if (err)
				return err;
			if (!o->reported || !observe_same(&cur, &o->last)) {
				o->reported = true;
				o->last = cur;
				memcpy(o->value, buf, cur.value_len);
				o->last.value = o->value;
				*leader = o->last;
				return 1;
			}
			continue;
		}
		left = timeout_ms < 0 ? -1 : 0;
		if (timeout_ms > 0) {
			int64_t l = deadline - observe_now_ms();

			left = l <= 0 ? 0 : l > 1 << 30 ? 1 << 30 : (int)l;
		}
		if (!left)
			return 0;
		p.fd = dlock_fd(o->d);
		p.events = POLLIN;
		if (poll(&p, 1, left) < 0)
			return -errno;
	}
}

void dlock_observe_end(struct dlock_observer *o)
{
	if (!o)
		return;
	dlock_watch(o->d, o->name, NULL, NULL);
	dlock_on_overflow(o->d, NULL, NULL);
	free(o);
}
