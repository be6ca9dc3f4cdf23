// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * libdlock: acquiring (blocking and async), and the commands a holder
 * sends about its lease: release, renew, set value; and break.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "internal.h"

static int dlock_release_locked(struct dlock *d, const char *name,
				const struct dlock_owner *owner);

/*
 * The calling thread's id, the default owner tag.  Cached per thread (a
 * syscall per request is measurable), and forgotten in a forked child,
 * whose thread has a new id.
 */
static __thread pid_t dlock_tid;
static pthread_once_t dlock_atfork_once = PTHREAD_ONCE_INIT;

static void dlock_forget_tid(void)
{
	dlock_tid = 0;
}

static void dlock_register_atfork(void)
{
	pthread_atfork(NULL, NULL, dlock_forget_tid);
}

uint64_t dlock_default_tag(uint64_t tag)
{
	if (tag)
		return tag;
	if (!dlock_tid) {
		pthread_once(&dlock_atfork_once, dlock_register_atfork);
		dlock_tid = gettid();
	}
	return (uint64_t)dlock_tid;
}

int dlock_check_name(const char *name)
{
	size_t len = name ? strlen(name) : 0;

	return len >= 1 && len <= DLOCK_NAME_MAX ? 0 : -EINVAL;
}

struct dlock_acq_reply {
	struct dlock_lease *lease;
	bool queued;
};

static int dlock_parse_acquire(struct nlattr **tb, struct nlmsghdr *nlh,
			       void *arg)
{
	struct dlock_acq_reply *r = arg;

	(void)nlh;
	r->lease->ttl_ms = tb[DLOCK_A_TTL_MS] ? nla_get_u32(tb[DLOCK_A_TTL_MS]) : 0;
	if (tb[DLOCK_A_QUEUED]) {
		r->queued = true;
		return 0;
	}
	if (!tb[DLOCK_A_TOKEN] || !tb[DLOCK_A_COUNT])
		return -EBADMSG;
	r->lease->token = nla_get_u64(tb[DLOCK_A_TOKEN]);
	r->lease->count = nla_get_u32(tb[DLOCK_A_COUNT]);
	return 0;
}

/* The acquire request, built in place (dlock_transact_raw()). */
static void dlock_acquire_msg(struct dlock *d, struct dlock_raw *m,
			      const char *name, size_t len,
			      const struct dlock_acquire_opts *o,
			      uint64_t cookie)
{
	/* The library's own flags are not the kernel's business. */
	uint32_t kflags = o->flags & ~DLOCK_LIB_FLAGS;

	dlock_raw_init(m, d, DLOCK_CMD_ACQUIRE);
	dlock_raw_put(m, DLOCK_A_NAME, name, len);
	dlock_raw_put_u8(m, DLOCK_A_MODE, o->mode);
	if (o->permits)
		dlock_raw_put_u32(m, DLOCK_A_PERMITS, o->permits);
	if (kflags)
		dlock_raw_put_u32(m, DLOCK_A_FLAGS, kflags);
	if (o->ttl_ms)
		dlock_raw_put_u32(m, DLOCK_A_TTL_MS, o->ttl_ms);
	if (o->wait_ms)
		dlock_raw_put_u32(m, DLOCK_A_WAIT_MS, o->wait_ms);
	dlock_raw_put_u64(m, DLOCK_A_COOKIE, cookie);
	if (o->flags & DLOCK_F_DETACHED) {
		/* The kernel caps owners; longer ones are its to refuse. */
		if (o->owner)
			dlock_raw_put(m, DLOCK_A_OWNER, o->owner,
				      strnlen(o->owner, DLOCK_OWNER_MAX + 1));
	} else {
		dlock_raw_put_u64(m, DLOCK_A_OWNER_TAG,
				  dlock_default_tag(o->tag));
	}
}

/*
 * Sends the acquire and registers its wait before the reply can race with
 * the outcome.  Returns 1 (granted), 0 (queued, *wp set) or a negative errno.
 */
static int dlock_acquire_start(struct dlock *d, const char *name,
			       const struct dlock_acquire_opts *o,
			       struct dlock_lease *lease,
			       struct dlock_wait **wp,
			       struct dlock_wait *stack_w)
{
	struct dlock_acq_reply r = { .lease = lease };
	size_t len = name ? strlen(name) : 0;
	struct dlock_raw m;
	struct dlock_wait *w;
	int err;

	if (len < 1 || len > DLOCK_NAME_MAX)
		return -EINVAL;
	/* A blocking acquire's wait ends before it returns: no malloc. */
	if (stack_w) {
		w = stack_w;
		*w = (struct dlock_wait){ .on_stack = true };
	} else {
		w = calloc(1, sizeof(*w));
		if (!w)
			return -ENOMEM;
	}
	w->cookie = d->next_cookie++;
	memcpy(w->name, name, len + 1);
	if (o->flags & DLOCK_F_DETACHED)
		snprintf(w->owner, sizeof(w->owner), "%s", o->owner ? o->owner : "");
	else
		w->tag = dlock_default_tag(o->tag);
	w->keepalive = o->flags & DLOCK_F_KEEPALIVE;
	/* On the list first: the outcome may beat the reply to us. */
	w->next = d->waits;
	d->waits = w;
	dlock_acquire_msg(d, &m, name, len, o, w->cookie);
	err = dlock_transact_raw(d, &m, dlock_parse_acquire, &r);
	if (err == -ENOBUFS) {
		/* The answer was lost: find out what the kernel did. */
		dlock_resync(d);
		if (w->done && !w->err) {
			err = dlock_wait_keep(d, w);
			if (!err)
				*lease = w->lease;
			dlock_wait_forget(d, w);
			return err ? err : 1;
		}
		if (!w->done) {
			*wp = w;
			return 0;
		}
	}
	if (err >= 0 && r.queued) {
		/* The grant, when it comes, carries no TTL: keep the reply's. */
		w->lease.ttl_ms = lease->ttl_ms;
		*wp = w;
		return 0;
	}
	if (err == 1) {
		w->lease = *lease;
		err = dlock_wait_keep(d, w);
		err = err ? err : 1;
	} else if (err >= 0) {
		err = -EBADMSG;
	}
	dlock_wait_forget(d, w);
	return err;
}

static int dlock_acquire_async_locked(struct dlock *d, const char *name,
				      const struct dlock_acquire_opts *opts,
				      struct dlock_lease *lease,
				      dlock_acquire_cb cb, void *arg)
{
	struct dlock_wait *w = NULL;
	int err;

	err = dlock_acquire_start(d, name, opts, lease, &w, NULL);
	if (err < 0)
		return err;
	if (!err && w->done) {
		/* Settled while we read the reply: as good as at once. */
		err = w->err;
		if (!err)
			err = dlock_wait_keep(d, w);
		if (!err)
			*lease = w->lease;
		dlock_wait_forget(d, w);
		if (err)
			return err;
	} else if (!err) {
		w->cb = cb;
		w->arg = arg;
		return 0;
	}
	/*
	 * Granted at once: the callback runs now, before we return, so that
	 * code driven by callbacks alone needs no second path for this case.
	 */
	cb(d, name, 0, lease, arg);
	return 1;
}

int dlock_acquire_async(struct dlock *d, const char *name,
			const struct dlock_acquire_opts *opts,
			struct dlock_lease *lease, dlock_acquire_cb cb,
			void *arg)
{
	int err;

	if (!cb)
		return -EINVAL;
	dlock_lock(d);
	err = dlock_acquire_async_locked(d, name, opts, lease, cb, arg);
	dlock_unlock(d);
	return err;
}

/*
 * Starts renewing @w's granted lease if it was asked for.  If that cannot
 * be done the lease is released: the caller is told it failed, and a lease
 * nobody renews must not be left to expire under a holder who thinks it
 * safe.
 */
int dlock_wait_keep(struct dlock *d, struct dlock_wait *w)
{
	struct dlock_owner own = { .str = w->owner[0] ? w->owner : NULL,
				   .tag = w->tag };
	int err;

	if (!w->keepalive || !w->lease.ttl_ms)
		return 0;
	err = dlock_ka_add(d, w->name, own.str, w->tag, &w->lease);
	if (err)
		dlock_release_locked(d, w->name, &own);
	return err;
}

static int dlock_cancel(struct dlock *d, struct dlock_wait *w)
{
	struct nl_msg *msg = dlock_msg(d, DLOCK_CMD_CANCEL, NLM_F_ACK);

	if (!msg)
		return -ENOMEM;
	if (nla_put(msg, DLOCK_A_NAME, strlen(w->name), w->name) ||
	    nla_put_u64(msg, DLOCK_A_COOKIE, w->cookie)) {
		nlmsg_free(msg);
		return -ENOMEM;
	}
	return dlock_transact(d, msg, NULL, NULL);
}

/*
 * A signal interrupted a blocking acquire.  Withdraw the request; if the
 * kernel settled it first, undo a grant, so the caller is left with nothing.
 */
static int dlock_acquire_interrupted(struct dlock *d, struct dlock_wait *w,
				     const struct dlock_acquire_opts *o)
{
	struct dlock_owner own = { .str = o->owner, .tag = o->tag };
	int err = dlock_cancel(d, w);

	if (err == -ENOENT) {
		/* Settled already: its WAIT_DONE is on its way or here. */
		while (!w->done && dlock_poll(d, 1000) > 0)
			dlock_drain(d);
		if (w->done && !w->err)
			dlock_release(d, w->name, &own);
	}
	dlock_wait_forget(d, w);
	return -EINTR;
}

/*
 * Waits for @w's outcome.  The handle stays locked: the keep-alive thread
 * cannot renew meanwhile, so this loop renews what is due itself.
 */
static int dlock_acquire_wait(struct dlock *d, struct dlock_wait *w,
			      const struct dlock_acquire_opts *opts,
			      struct dlock_lease *lease)
{
	int err, timeout;

	while (!w->done) {
		timeout = dlock_ka_timeout(d);
		/* A resync that could not look the wait up tries again soon. */
		if (d->need_resync && (timeout < 0 || timeout > 100))
			timeout = 100;
		err = dlock_poll(d, timeout);
		if (err == -EINTR) {
			/* The handler ran; our place in the queue is kept. */
			if (opts->flags & DLOCK_F_RESTART)
				continue;
			return dlock_acquire_interrupted(d, w, opts);
		}
		if (err < 0 || (err = dlock_drain(d)) < 0) {
			dlock_cancel(d, w);
			dlock_wait_forget(d, w);
			return err;
		}
		dlock_resync_if_idle(d);
		dlock_ka_run_due(d);
	}
	err = w->err;
	if (!err)
		err = dlock_wait_keep(d, w);
	if (!err)
		*lease = w->lease;
	dlock_wait_forget(d, w);
	return err;
}

int dlock_acquire(struct dlock *d, const char *name,
		  const struct dlock_acquire_opts *opts,
		  struct dlock_lease *lease)
{
	struct dlock_wait stack_w, *w = NULL;
	int err;

	dlock_lock(d);
	err = dlock_acquire_start(d, name, opts, lease, &w, &stack_w);
	if (!err)
		err = dlock_acquire_wait(d, w, opts, lease);
	dlock_unlock(d);
	return err > 0 ? 0 : err;
}

/* ---- owned commands --------------------------------------------------- */

static int dlock_put_owner(struct nl_msg *msg, const struct dlock_owner *o)
{
	if (o && o->str)
		return nla_put(msg, DLOCK_A_OWNER, strlen(o->str), o->str);
	return nla_put_u64(msg, DLOCK_A_OWNER_TAG,
			   dlock_default_tag(o ? o->tag : 0));
}

/* A request on @owner's lease of @name; NULL when out of memory. */
static struct nl_msg *dlock_owner_msg(struct dlock *d, uint8_t cmd,
				      const char *name,
				      const struct dlock_owner *owner)
{
	struct nl_msg *msg = dlock_msg(d, cmd, 0);

	if (msg && (nla_put(msg, DLOCK_A_NAME, strlen(name), name) ||
		    dlock_put_owner(msg, owner))) {
		nlmsg_free(msg);
		msg = NULL;
	}
	return msg;
}

/* Sends @msg, whose reply carries nothing: 0 or the kernel's error. */
static int dlock_send(struct dlock *d, struct nl_msg *msg)
{
	int err;

	dlock_lock(d);
	err = dlock_transact(d, msg, NULL, NULL);
	dlock_unlock(d);
	return err < 0 ? err : 0;
}

static int dlock_parse_count(struct nlattr **tb, struct nlmsghdr *nlh,
			     void *arg)
{
	(void)nlh;
	if (!tb[DLOCK_A_COUNT])
		return -EBADMSG;
	*(uint32_t *)arg = nla_get_u32(tb[DLOCK_A_COUNT]);
	return 0;
}

static int dlock_release_locked(struct dlock *d, const char *name,
				const struct dlock_owner *owner)
{
	size_t len = name ? strlen(name) : 0;
	struct dlock_raw m;
	uint32_t count = 0;
	int err;

	if (len < 1 || len > DLOCK_NAME_MAX)
		return -EINVAL;
	/* Built in place, as the acquire: the pair's two requests alike. */
	dlock_raw_init(&m, d, DLOCK_CMD_RELEASE);
	dlock_raw_put(&m, DLOCK_A_NAME, name, len);
	if (owner && owner->str)
		dlock_raw_put(&m, DLOCK_A_OWNER, owner->str,
			      strnlen(owner->str, DLOCK_OWNER_MAX + 1));
	else
		dlock_raw_put_u64(&m, DLOCK_A_OWNER_TAG,
				  dlock_default_tag(owner ? owner->tag : 0));
	err = dlock_transact_raw(d, &m, dlock_parse_count, &count);
	if (err < 0)
		return err;
	if (err != 1)
		return -EBADMSG;
	if (!count)
		dlock_ka_released(d, name, owner);
	return (int)count;
}

int dlock_release(struct dlock *d, const char *name,
		  const struct dlock_owner *owner)
{
	int err;

	dlock_lock(d);
	err = dlock_release_locked(d, name, owner);
	dlock_unlock(d);
	return err;
}

int dlock_renew(struct dlock *d, const char *name,
		const struct dlock_owner *owner, uint32_t ttl_ms)
{
	struct nl_msg *msg;

	if (dlock_check_name(name))
		return -EINVAL;
	msg = dlock_owner_msg(d, DLOCK_CMD_RENEW, name, owner);
	if (!msg)
		return -ENOMEM;
	if (nla_put_u32(msg, DLOCK_A_TTL_MS, ttl_ms)) {
		nlmsg_free(msg);
		return -ENOMEM;
	}
	return dlock_send(d, msg);
}

int dlock_set_value(struct dlock *d, const char *name,
		    const struct dlock_owner *owner, const void *value,
		    size_t len)
{
	struct nl_msg *msg;

	if (dlock_check_name(name) || len > DLOCK_VALUE_MAX)
		return -EINVAL;
	msg = dlock_owner_msg(d, DLOCK_CMD_SET_VALUE, name, owner);
	if (!msg)
		return -ENOMEM;
	if (nla_put(msg, DLOCK_A_VALUE, len, value)) {
		nlmsg_free(msg);
		return -ENOMEM;
	}
	return dlock_send(d, msg);
}

int dlock_break(struct dlock *d, const char *name, uint64_t token)
{
	struct nl_msg *msg;

	if (dlock_check_name(name))
		return -EINVAL;
	msg = dlock_msg(d, DLOCK_CMD_BREAK, NLM_F_ACK);	/* no reply */
	if (!msg)
		return -ENOMEM;
	if (nla_put(msg, DLOCK_A_NAME, strlen(name), name) ||
	    (token && nla_put_u64(msg, DLOCK_A_TOKEN, token))) {
		nlmsg_free(msg);
		return -ENOMEM;
	}
	return dlock_send(d, msg);
}

