/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * libdlock's insides, shared by its source files and by nothing else.
 * Everything declared here is hidden: only the dlock_* functions of dlock.h
 * are the library's ABI (see libdlock.map).
 */
#ifndef LIBDLOCK_INTERNAL_H
#define LIBDLOCK_INTERNAL_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#include <netlink/netlink.h>
#include <netlink/genl/genl.h>

#include "dlock.h"

#pragma GCC visibility push(hidden)

/* A queued acquire of this handle. */
struct dlock_wait {
	struct dlock_wait *next;
	uint64_t cookie;
	char name[DLOCK_NAME_MAX + 1];
	dlock_acquire_cb cb;
	void *arg;
	bool done;		/* outcome arrived (blocking waits) */
	bool keepalive;		/* DLOCK_F_KEEPALIVE: renew once granted */
	int err;
	struct dlock_lease lease;
	/* Who waits, to find ourselves in a GET after lost messages. */
	uint64_t tag;
	char owner[DLOCK_OWNER_MAX + 1];
	unsigned int resync_pass;	/* last resync that looked it up */
	bool on_stack;		/* a blocking acquire's: not freed */
};

/* A lease this handle renews by itself (keepalive.c). */
struct dlock_ka {
	struct dlock_ka *next;
	char name[DLOCK_NAME_MAX + 1];
	char *owner;		/* detached: its owner string, else NULL */
	uint64_t tag;		/* socket-bound: the owner tag, resolved */
	uint64_t token;		/* for the lost report */
	uint32_t ttl_ms;
	int64_t due_ns;		/* CLOCK_MONOTONIC time of the next renewal */
};

struct dlock {
	/*
	 * Taken by every public call: the keep-alive thread shares the
	 * handle.  Recursive, since callbacks may release, renew and set
	 * values on the handle that runs them.
	 */
	pthread_mutex_t mu;
	struct nl_sock *sk;
	struct nl_cb *cb;
	int family;
	int events_grp;		/* multicast group id, <0 if unknown */
	int admin_grp;		/* the same with owners shown, CAP_NET_ADMIN */
	int err;		/* errno the kernel answered the last request with */
	char errmsg[256];	/* its extended-ack text, "" if none */
	uint64_t next_cookie;
	struct dlock_wait *waits;
	dlock_lost_cb lost_cb;
	void *lost_arg;
	dlock_event_cb event_cb;
	void *event_arg;
	dlock_overflow_cb overflow_cb;
	void *overflow_arg;
	unsigned int told_overruns;	/* overruns overflow_cb heard of */
	char *watch_prefix;
	size_t watch_prefix_len;
	int ncallbacks;		/* run by the current dispatch */
	bool need_resync;	/* the kernel dropped messages for us */
	bool linearizable;	/* dlock_get()/dlock_list() ask for it */
	unsigned int resync_pass;
	unsigned int overruns;	/* times it did */
	unsigned int drained_overruns;	/* overruns when last emptied */
	/* keepalive.c */
	struct dlock_ka *kas;
	bool ka_thread_on;
	bool ka_stop;
	pthread_t ka_thread;
	int ka_wake_fd;		/* eventfd that wakes the thread, -1: none */
};

static inline void dlock_lock(struct dlock *d)
{
	pthread_mutex_lock(&d->mu);
}

static inline void dlock_unlock(struct dlock *d)
{
	pthread_mutex_unlock(&d->mu);
}

/*
 * A request built in place, without libnl's message objects (the fast path
 * of acquire and release: see dlock_transact_raw()).  Room for the largest
 * acquire: a name, an owner string and every number attribute.
 */
struct dlock_raw {
	union {
		struct nlmsghdr nlh;
		char buf[NLMSG_HDRLEN + GENL_HDRLEN + 2 * NLA_HDRLEN +
			 NLA_ALIGN(DLOCK_NAME_MAX) + NLA_ALIGN(DLOCK_OWNER_MAX) +
			 8 * (NLA_HDRLEN + 8)];
	};
};

void dlock_raw_init(struct dlock_raw *m, struct dlock *d, uint8_t cmd);
void dlock_raw_put(struct dlock_raw *m, uint16_t type, const void *data,
		   size_t len);

static inline void dlock_raw_put_u8(struct dlock_raw *m, uint16_t type,
				    uint8_t v)
{
	dlock_raw_put(m, type, &v, sizeof(v));
}

static inline void dlock_raw_put_u32(struct dlock_raw *m, uint16_t type,
				     uint32_t v)
{
	dlock_raw_put(m, type, &v, sizeof(v));
}

static inline void dlock_raw_put_u64(struct dlock_raw *m, uint16_t type,
				     uint64_t v)
{
	dlock_raw_put(m, type, &v, sizeof(v));
}

/* dlock.c */
struct nl_cb *dlock_receive_cb(struct dlock *d);
int dlock_transact_raw(struct dlock *d, struct dlock_raw *m,
		       int (*parse)(struct nlattr **tb, struct nlmsghdr *nlh,
				    void *arg),
		       void *arg);
struct nl_msg *dlock_msg(struct dlock *d, uint8_t cmd, int flags);
int dlock_transact(struct dlock *d, struct nl_msg *msg,
		   int (*parse)(struct nlattr **tb, struct nlmsghdr *nlh,
				void *arg),
		   void *arg);
int dlock_drain(struct dlock *d);
int dlock_poll(struct dlock *d, int timeout_ms);
void dlock_resync_if_idle(struct dlock *d);
void dlock_resync(struct dlock *d);
struct dlock_wait **dlock_wait_find(struct dlock *d, uint64_t cookie);
void dlock_wait_forget(struct dlock *d, struct dlock_wait *w);
void dlock_wait_settle(struct dlock *d, struct dlock_wait *w);
size_t dlock_copy_owner(char buf[DLOCK_OWNER_MAX + 1], const struct nlattr *a);

/* acquire.c */
int dlock_check_name(const char *name);
uint64_t dlock_default_tag(uint64_t tag);
int dlock_wait_keep(struct dlock *d, struct dlock_wait *w);

/* inspect.c */
int dlock_lock_info_parse(struct nlattr **tb, struct nlmsghdr *nlh,
			  struct dlock_lock_info **out);

/* keepalive.c */
int dlock_ka_add(struct dlock *d, const char *name, const char *owner,
		 uint64_t tag, const struct dlock_lease *lease);
void dlock_ka_released(struct dlock *d, const char *name,
		       const struct dlock_owner *owner);
void dlock_ka_lost(struct dlock *d, const char *name, uint64_t tag);
void dlock_ka_run_due(struct dlock *d);
int dlock_ka_timeout(struct dlock *d);
void dlock_ka_stop_thread(struct dlock *d);
void dlock_ka_free(struct dlock *d);

#pragma GCC visibility pop

#endif /* LIBDLOCK_INTERNAL_H */
