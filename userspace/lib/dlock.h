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
 * cheap).  Distinct handles are fully independent.  Callbacks run on the
 * thread that called dlock_dispatch() or a blocking call on the handle, or
 * on its keep-alive thread (dlock_keepalive_thread()); they may not call
 * back into the same handle, except dlock_release(), dlock_renew(),
 * dlock_set_value() and dlock_keepalive_stop().
 *
 * ABI: libdlock.so.1.  Structures the caller allocates do not grow within
 * one soname; new options come as flags or new functions (see libdlock(3)).
 *
 * Leases come in two kinds.  A socket-bound lease (the default) belongs to
 * this handle and an owner tag (by default the calling thread's id): it ends
 * when the handle is closed or its process dies, and with DLOCK_F_NO_TTL it
 * has no TTL at all.  A detached lease (DLOCK_F_DETACHED) belongs to an
 * owner string, has a TTL and outlives the handle; whoever presents the
 * string may renew or release it.
 *
 * Names, owner strings and values are byte strings: they may hold any byte,
 * NUL and control characters included, so print them escaped.
 */
#ifndef LIBDLOCK_H
#define LIBDLOCK_H

#include <stddef.h>
#include <stdint.h>
#include <linux/dlock.h>

#ifdef __cplusplus
extern "C" {
#endif

/* An open connection to the dlock module of the caller's network namespace. */
struct dlock;

/*
 * How often each lease and wait outcome happened in a namespace since it
 * was created (enum dlock_counter_attr); every lease granted ends as one
 * release, owner death, expiry or break, or is still held.
 */
struct dlock_counters {
	uint64_t grants;	/* leases begun (reentrant acquires: none) */
	uint64_t releases;	/* ended by their owner */
	uint64_t owner_died;	/* ended by their socket closing */
	uint64_t expired;	/* ended by their TTL */
	uint64_t breaks;	/* ended by dlock_break() */
	uint64_t waits;		/* acquires that queued */
	uint64_t wait_timeouts;	/* queued acquires that timed out */
	uint64_t deadlocks;	/* acquires refused with -EDEADLK */
};

/* What dlock_get_status() reports about the caller's network namespace. */
struct dlock_status {
	char version[32];	/* version string of the loaded module */
	uint64_t leases;	/* leases currently held */
	uint64_t waiters;	/* requests currently queued */
	uint64_t requests;	/* requests served by this namespace's table */
	uint64_t netns_cookie;	/* identifies the network namespace */
	uint64_t memory;	/* bytes of kernel memory its lock table holds */
	/* 0 below: a module older than this library did not say. */
	int has_counters;	/* the module sent locks and counters */
	uint64_t locks;		/* names with a holder or a waiter */
	struct dlock_counters counters;
};

/*
 * Limits of a network namespace (dlock_get_config(), dlock_set_config()).
 * 0 means no limit, except max_ttl_ms, which is always at least 1.
 */
struct dlock_config {
	uint32_t max_ttl_ms;		/* longer TTLs are cut to this */
	uint32_t max_leases;		/* leases in the namespace */
	uint32_t max_waiters;		/* queued acquires in the namespace */
	uint32_t max_socket_leases;	/* socket-bound leases of one socket */
	uint32_t max_socket_waiters;	/* queued acquires of one socket */
	/*
	 * Per uid, from any number of sockets, socket-bound and detached;
	 * DLOCK_USER_LIMIT_AUTO (the default): 1/16 of the namespace limit in
	 * force at each request (value bytes: 64 per lease of that share, at
	 * least 64 KiB).  A caller with CAP_NET_ADMIN is not held to them.
	 */
	uint32_t max_user_leases;
	uint32_t max_user_waiters;
	uint32_t max_user_value_bytes;
	/* Read only: the per-uid limits in force now, shares worked out. */
	uint32_t user_leases;
	uint32_t user_waiters;
	uint32_t user_value_bytes;
};

/* dlock_set_config() @set bits: which fields of the config to change. */
#define DLOCK_CFG_MAX_TTL_MS		(1U << 0)
#define DLOCK_CFG_MAX_LEASES		(1U << 1)
#define DLOCK_CFG_MAX_WAITERS		(1U << 2)
#define DLOCK_CFG_MAX_SOCKET_LEASES	(1U << 3)
#define DLOCK_CFG_MAX_SOCKET_WAITERS	(1U << 4)
#define DLOCK_CFG_MAX_USER_LEASES	(1U << 5)
#define DLOCK_CFG_MAX_USER_WAITERS	(1U << 6)
#define DLOCK_CFG_MAX_USER_VALUE_BYTES	(1U << 7)

/*
 * Flags of struct dlock_acquire_opts that the library acts on itself and
 * never sends (the kernel's DLOCK_F_* of <linux/dlock.h> stay below bit 24).
 * DLOCK_F_KEEPALIVE: once granted, the library renews the lease at a third
 *	of its granted TTL until it is released or lost (dlock_keepalive()).
 * DLOCK_F_RESTART: a blocking dlock_acquire() goes on waiting, in its place
 *	in the queue, after a signal handler ran, instead of withdrawing the
 *	request and returning -EINTR (the default).
 */
#define DLOCK_F_KEEPALIVE	(1U << 24)
#define DLOCK_F_RESTART		(1U << 25)
#define DLOCK_LIB_FLAGS		(DLOCK_F_KEEPALIVE | DLOCK_F_RESTART)

/*
 * How to acquire (all fields zero: an exclusive lease bound to this handle's
 * socket, owned by the calling thread, waiting without limit; a TTL or
 * DLOCK_F_NO_TTL is still required).
 */
struct dlock_acquire_opts {
	enum dlock_mode mode;	/* DLOCK_MODE_EXCLUSIVE, _SHARED, _SEMAPHORE */
	uint32_t permits;	/* DLOCK_MODE_SEMAPHORE: its number of permits */
	uint32_t ttl_ms;	/* lease TTL; 0 only with DLOCK_F_NO_TTL */
	uint32_t flags;		/* DLOCK_F_TRY, DLOCK_F_DETACHED, DLOCK_F_NO_TTL,
				 * and the library's DLOCK_F_KEEPALIVE,
				 * DLOCK_F_RESTART */
	uint32_t wait_ms;	/* longest wait when queued; 0: no limit */
	uint64_t tag;		/* socket-bound owner; 0: the calling thread id */
	const char *owner;	/* DLOCK_F_DETACHED: the owner string */
};

/* A granted lease. */
struct dlock_lease {
	uint64_t token;		/* fencing token: increases with every grant */
	uint32_t count;		/* reentrancy count after this acquire */
	uint32_t ttl_ms;	/* the TTL granted (cut to the namespace's
				 * cap); renew before it runs out.  0: none */
};

/*
 * Who speaks for a lease in release, renew and set-value: the owner string
 * of a detached lease, or (str NULL) the socket-bound owner @tag of this
 * handle (0: the calling thread id).  A NULL struct dlock_owner pointer
 * means the calling thread's socket-bound lease.
 */
struct dlock_owner {
	const char *str;
	uint64_t tag;
};

/* A holder or waiter, as dlock_get() and dlock_list() report it. */
struct dlock_entry {
	enum dlock_mode mode;
	uint64_t token;		/* holders */
	uint32_t count;		/* holders: reentrancy count */
	uint64_t cookie;	/* waiters: the request's cookie */
	uint64_t session;	/* the owner's socket session */
	uint64_t tag;		/* socket-bound owner tag */
	char owner[DLOCK_OWNER_MAX + 1];	/* detached owner, NUL-terminated
						 * copy; owner_len bytes long */
	uint32_t pid;		/* the process that asked */
	uint32_t uid;
	char comm[16];
	int64_t remaining_ms;	/* until expiry or wait timeout; -1: none */
	const void *value;	/* holders: attached value, NULL if none */
	size_t value_len;
	size_t owner_len;	/* detached owner's length, 0 if none (it may
				 * hold NUL bytes, so owner[0] may be 0) */
	/*
	 * Another uid's entry seen without CAP_NET_ADMIN: only mode, token,
	 * count, remaining_ms and uid are filled in.
	 */
	int hidden;
};

/* One lock: dlock_get() allocates it, dlock_lock_info_free() frees it. */
struct dlock_lock_info {
	char name[DLOCK_NAME_MAX + 1];	/* NUL-terminated copy */
	size_t name_len;
	enum dlock_mode mode;
	uint32_t permits;		/* semaphores */
	size_t n_holders;
	size_t n_waiters;
	struct dlock_entry *holders;
	struct dlock_entry *waiters;	/* in queue order */
	int truncated;			/* dlock_list() only: more entries than
					 * one message holds; dlock_get() has all */
};

/* A lock event from the events multicast group (dlock_watch()). */
struct dlock_event {
	enum dlock_event_type type;	/* DLOCK_EV_GRANTED, ..., _VALUE */
	const char *name;		/* NUL-terminated */
	size_t name_len;
	enum dlock_mode mode;
	uint64_t token;
	uint64_t session;
	uint64_t tag;			/* socket-bound owners */
	const char *owner;		/* detached owners, else NULL */
	size_t owner_len;		/* its length: it may hold NUL bytes */
	uint32_t uid;			/* the owner's uid */
	/*
	 * The watcher lacks CAP_NET_ADMIN: events come without owner (tag,
	 * session and owner are 0 / NULL), for every uid.
	 */
	int hidden;
};

/* A socket-bound lease of this handle ended without being released. */
struct dlock_lost {
	const char *name;
	uint64_t tag;
	uint64_t token;
	enum dlock_lost_reason reason;	/* DLOCK_LOST_EXPIRED, _BROKEN, _IN_DOUBT */
};

typedef void (*dlock_acquire_cb)(struct dlock *d, const char *name, int err,
				 const struct dlock_lease *lease, void *arg);
typedef void (*dlock_lost_cb)(struct dlock *d, const struct dlock_lost *lost,
			      void *arg);
typedef void (*dlock_event_cb)(struct dlock *d, const struct dlock_event *ev,
			       void *arg);
typedef int (*dlock_list_cb)(const struct dlock_lock_info *info, void *arg);
typedef void (*dlock_overflow_cb)(struct dlock *d, void *arg);

/*
 * dlock_open() - connect to the dlock module.
 * @out: receives the handle on success.
 *
 * Return: 0, or -ENOENT when the dlock module is not loaded (its generic
 * netlink family does not exist), or another negative errno.
 */
int dlock_open(struct dlock **out);

/*
 * dlock_close() - close a handle.  Its socket-bound leases are released and
 * its queued requests cancelled by the kernel at once (unless another
 * process still holds a copy of its socket).  NULL is ignored.
 */
void dlock_close(struct dlock *d);

/*
 * dlock_forget() - in a forked child, free a handle inherited from the
 * parent and close the child's copy of its socket, sending nothing: the
 * parent's leases and waits stay as they are.  NULL is ignored.
 */
void dlock_forget(struct dlock *d);

/*
 * dlock_get_status() - read the module version and the counters of the
 * caller's network namespace.
 * Return: 0 or a negative errno.
 */
int dlock_get_status(struct dlock *d, struct dlock_status *st);

/* dlock_get_config() - read the limits of the caller's namespace. */
int dlock_get_config(struct dlock *d, struct dlock_config *cfg);

/*
 * dlock_set_config() - change the fields of @cfg named in @set (the
 * DLOCK_CFG_* bits); needs CAP_NET_ADMIN in the namespace's user namespace.
 * Leases and waits already admitted stay, even above a lowered limit.
 * On success @cfg holds the limits now in force.
 */
int dlock_set_config(struct dlock *d, struct dlock_config *cfg, unsigned int set);

/*
 * dlock_acquire() - take a lease on @name, waiting if it is held.
 * @opts: how (see struct dlock_acquire_opts); DLOCK_F_TRY never waits.
 * @lease: receives the token and reentrancy count.
 *
 * Blocks until granted, until @opts->wait_ms ran out (-ETIMEDOUT) or until a
 * signal handler ran (-EINTR; the queued request is cancelled in the kernel
 * before returning, nothing is left behind), unless @opts->flags has
 * DLOCK_F_RESTART: then it keeps waiting in its place in the queue.
 * Callbacks of other requests on @d may run meanwhile, and leases under
 * keep-alive are renewed.
 * Return: 0, -EAGAIN (DLOCK_F_TRY and held), -ETIMEDOUT, -EINTR, -EDEADLK
 * (waiting would close a cycle of owners), or another negative errno.
 */
int dlock_acquire(struct dlock *d, const char *name,
		  const struct dlock_acquire_opts *opts,
		  struct dlock_lease *lease);

/*
 * dlock_acquire_async() - start an acquire without blocking.
 * @cb runs exactly once for every call that returns 0 or 1: for a grant at
 * once before dlock_acquire_async() returns 1 (@lease filled too), for a
 * queued request (return 0) from dlock_dispatch() or a later call on @d
 * with the outcome.  On a negative errno @cb is not called.
 */
int dlock_acquire_async(struct dlock *d, const char *name,
			const struct dlock_acquire_opts *opts,
			struct dlock_lease *lease, dlock_acquire_cb cb,
			void *arg);

/* dlock_release() - drop one reentrancy level; the lease ends at zero.
 * Return: the levels left (>= 0) or a negative errno (-EPERM: not the
 * owner's, -ENOENT: no such lock).
 */
int dlock_release(struct dlock *d, const char *name,
		  const struct dlock_owner *owner);

/* dlock_renew() - restart the lease's TTL at @ttl_ms from now. */
int dlock_renew(struct dlock *d, const char *name,
		const struct dlock_owner *owner, uint32_t ttl_ms);

/* dlock_set_value() - attach up to DLOCK_VALUE_MAX bytes to a held lease. */
int dlock_set_value(struct dlock *d, const char *name,
		    const struct dlock_owner *owner, const void *value,
		    size_t len);

/*
 * dlock_break() - end a lease by force (needs CAP_NET_ADMIN in the network
 * namespace's user namespace).  @token: that lease, or 0 for every holder.
 */
int dlock_break(struct dlock *d, const char *name, uint64_t token);

/* dlock_get() - inspect one lock.  Free *info with dlock_lock_info_free(). */
int dlock_get(struct dlock *d, const char *name,
	      struct dlock_lock_info **info);
void dlock_lock_info_free(struct dlock_lock_info *info);

/*
 * dlock_list() - call @cb for every lock whose name starts with @prefix
 * (NULL: all), page by page.  A non-zero return from @cb stops the walk.
 * Return: the number of locks reported, or -EAGAIN when the table changed
 * during the walk (locks may have been missed or repeated: walk again for
 * an exact picture), or another negative errno.
 */
int dlock_list(struct dlock *d, const char *prefix, dlock_list_cb cb,
	       void *arg);

/*
 * dlock_watch() - subscribe @d to lock events of names starting with
 * @prefix (NULL: all).  Events arrive through dlock_dispatch().  Watchers
 * only observe: they never contend.  Filtering happens in the library, so
 * give a watcher a handle of its own.
 */
int dlock_watch(struct dlock *d, const char *prefix, dlock_event_cb cb,
		void *arg);

/* dlock_on_lost() - call @cb when a socket-bound lease of @d is lost. */
void dlock_on_lost(struct dlock *d, dlock_lost_cb cb, void *arg);

/*
 * dlock_on_overflow() - call @cb, from dlock_dispatch(), after the kernel
 * dropped messages for @d because its receive queue was full (recv() said
 * ENOBUFS).  Watch events in between are lost for good: a watcher learns
 * here that the state may have changed unseen (dlock_list() shows it now).
 * The library itself recovers the outcomes of its queued acquires.
 */
void dlock_on_overflow(struct dlock *d, dlock_overflow_cb cb, void *arg);

/*
 * dlock_set_inherit() - whether programs this process executes keep @d's
 * socket (@inherit non-zero) or not (0, the default: libdlock opens it
 * close-on-exec).  The kernel ends the handle's session, releasing its
 * socket-bound leases and cancelling its waits, only when the LAST copy of
 * the socket is closed: a child that inherits it keeps the leases for as
 * long as it, or any process it passes the descriptor to, keeps it open,
 * whatever happens to this process, like a flock(2) lock on an inherited
 * file.  Only this process may use the handle; the others only hold the
 * descriptor (dlock_fd()), though they could send requests in its session:
 * hand it only to programs trusted with those leases.  Call it in the child
 * between fork() and exec() to hand the leases to that child alone.
 * Return: 0 or a negative errno.
 */
int dlock_set_inherit(struct dlock *d, int inherit);

/*
 * dlock_set_linearizable() - whether dlock_get() and dlock_list() of @d
 * read linearizably (@on non-zero) or from what this node has applied (0,
 * the default).  On a node of a cluster a linearizable read first passes a
 * barrier through the leader's log (about one commit's latency, and it
 * fails like a lock command when there is no leader), so it shows every
 * change acknowledged to anyone before it was asked; a plain read may lag
 * the leader by a round trip, or by any amount on a node cut off.  A
 * single node is always current: the flag changes nothing there.
 */
void dlock_set_linearizable(struct dlock *d, int on);

/*
 * Event-loop form: poll dlock_fd() for POLLIN, then call dlock_dispatch(),
 * which handles every message already received (completions, lost leases,
 * events) without blocking.
 * Return of dlock_dispatch(): the number of callbacks run, or a negative
 * errno.
 */
int dlock_fd(const struct dlock *d);
int dlock_dispatch(struct dlock *d);

/*
 * Keep-alive: the library renews a lease at a third of its TTL.
 *
 * dlock_keepalive() - renew the held lease (@owner as in dlock_renew()) at
 * once with @ttl_ms, then every @ttl_ms / 3, until it is released through
 * @d, lost, or dlock_keepalive_stop() is called.  DLOCK_F_KEEPALIVE does
 * the same for a lease from its grant.  A lease that cannot be renewed any
 * more is reported to the dlock_on_lost() callback.
 * Return: 0, or the error of the first renewal.
 *
 * Renewals run from dlock_dispatch(), from blocking calls while they wait,
 * and from the keep-alive thread if it runs: an event loop polls dlock_fd()
 * with dlock_next_timeout() as its timeout.
 */
int dlock_keepalive(struct dlock *d, const char *name,
		    const struct dlock_owner *owner, uint32_t ttl_ms);

/* dlock_keepalive_stop() - stop renewing; the lease runs out at its TTL.
 * Return: 0, or -ENOENT when the lease was not kept alive.
 */
int dlock_keepalive_stop(struct dlock *d, const char *name,
			 const struct dlock_owner *owner);

/*
 * dlock_next_timeout() - milliseconds until dlock_dispatch() has work that
 * no message announces (a renewal is due), 0 if it has now, -1 if none.
 */
int dlock_next_timeout(struct dlock *d);

/*
 * dlock_keepalive_thread() - start (@run non-zero) or stop a thread that
 * dispatches @d whenever the application is not in a call on it: it renews
 * leases for a program that only makes blocking calls, and runs the
 * callbacks of what it receives (lost leases first of all).  All signals
 * are blocked in it.  dlock_close() stops it.  Not from a callback.
 * Return: 0 or a negative errno.
 */
int dlock_keepalive_thread(struct dlock *d, int run);

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

/* ---- leader election (elect.c) ------------------------------------------
 *
 * An election is a lock NAME: its holder is the leader, and the value
 * attached to its lease is what the leader publishes (an address, say).
 * Candidates queue in FIFO order; when the leader's process dies, the
 * kernel ends its lease at once and the next candidate takes over.
 * Observers watch NAME's events and read its holder.  A new leader
 * publishes its value just after it is granted; the kernel's value event
 * (DLOCK_EV_VALUE) makes observers read it, so an observer never reports
 * a leader without its value.  Only the leader's uid (and
 * CAP_NET_ADMIN) can read its value: other users observe that a leader of
 * that uid exists, and its token.
 */

/* How to campaign (all zero: no TTL, wait without limit). */
struct dlock_campaign_opts {
	uint32_t ttl_ms;	/* 0: no TTL, leader while the handle is open;
				 * else renewed with DLOCK_F_KEEPALIVE, or by
				 * the caller (lease->ttl_ms is the TTL
				 * granted) */
	uint32_t wait_ms;	/* longest wait; 0: no limit */
	uint32_t flags;		/* DLOCK_F_TRY: fail at once if led;
				 * DLOCK_F_KEEPALIVE (with a TTL) and
				 * DLOCK_F_RESTART as for dlock_acquire() */
	uint64_t tag;		/* socket-bound owner; 0: the calling thread */
};

/*
 * dlock_campaign() - become the leader of election @name, waiting behind
 * the leader and earlier candidates, then publish @value (1 to
 * DLOCK_VALUE_MAX bytes).  Leadership is a socket-bound exclusive lease of
 * @d: it ends with dlock_resign(), when @d is closed or its process dies,
 * or when the lease is lost (dlock_on_lost()).
 * Return: 0 (@lease filled in), or as dlock_acquire(): -EAGAIN
 * (DLOCK_F_TRY and led), -ETIMEDOUT, -EINTR, or another negative errno;
 * -EINVAL for a name or value out of bounds.  When publishing fails the
 * lease is given up again before returning.
 */
int dlock_campaign(struct dlock *d, const char *name, const void *value,
		   size_t len, const struct dlock_campaign_opts *opts,
		   struct dlock_lease *lease);

/* dlock_proclaim() - the leader (owner @tag) publishes a new value. */
int dlock_proclaim(struct dlock *d, const char *name, uint64_t tag,
		   const void *value, size_t len);

/* dlock_resign() - give up leadership of @name (owner @tag). */
int dlock_resign(struct dlock *d, const char *name, uint64_t tag);

/* The leader of an election, as dlock_observe_next() reports it. */
struct dlock_leader {
	int present;		/* 0: no leader (nobody leads, or the one
				 * granted has not published yet) */
	int hidden;		/* another uid's leader: only token and uid */
	uint64_t token;		/* the leader's fencing token */
	uint32_t uid;
	uint32_t pid;		/* the leader's process */
	char comm[16];
	const void *value;	/* valid until the next call on the observer */
	size_t value_len;
};

/* An observer of one election (dlock_observe()). */
struct dlock_observer;

/*
 * dlock_observe() - start observing election @name on @d, which it
 * subscribes to @name's events: give an observer a handle of its own.
 * Return: 0 (*@out set; end it with dlock_observe_end()) or a negative
 * errno.
 */
int dlock_observe(struct dlock *d, const char *name,
		  struct dlock_observer **out);

/*
 * dlock_observe_next() - wait up to @timeout_ms (-1: without limit, 0: not
 * at all, for an event loop polling dlock_fd()) until the leader differs
 * from the one reported last (another token or another value; the first
 * call reports the current one), and fill in @leader.
 * Return: 1 when @leader holds a change, 0 when the time ran out, or a
 * negative errno (-EINTR: a signal arrived).
 */
int dlock_observe_next(struct dlock_observer *o, int timeout_ms,
		       struct dlock_leader *leader);

/* dlock_observe_end() - stop observing (the handle stays open).  NULL ok. */
void dlock_observe_end(struct dlock_observer *o);

/* ---- cluster configuration (cluster.c, LIBDLOCK_1.1) --------------------
 *
 * A network namespace is a single node (the default) or one node of a
 * cluster that replicates its lock table to its peers over UDP.  Setting a
 * cluster needs CAP_NET_ADMIN in the namespace's user namespace.  A module
 * without cluster support answers both calls with -EOPNOTSUPP.
 */

/* An IPv4 or IPv6 address and a UDP port. */
struct dlock_cluster_addr {
	int family;		/* AF_INET or AF_INET6; AF_UNSPEC: no address
				 * (listen: every address, IPv6 and IPv4) */
	uint16_t port;		/* in host byte order */
	uint8_t addr[16];	/* network byte order; AF_INET: the first 4 */
};

/* Another node of the cluster. */
struct dlock_cluster_peer {
	uint32_t id;			/* 1..DLOCK_CLUSTER_ID_MAX */
	struct dlock_cluster_addr endpoint;	/* where it listens */
	/* dlock_get_cluster() only; ignored by dlock_set_cluster(): */
	int64_t last_contact_ms;	/* since a datagram from it was
					 * accepted; -1: never */
	int64_t lag;			/* log entries it has yet to
					 * acknowledge; -1: not known (this
					 * node is not the leader) */
	uint64_t tx;			/* datagrams sent to it */
	uint64_t rx;			/* datagrams from it accepted */
	uint64_t dropped;		/* datagrams from it dropped */
};

/*
 * A node's cluster configuration and, from dlock_get_cluster(), its state.
 * id 0: not in a cluster (single-node mode).
 */
struct dlock_cluster {
	uint32_t id;			/* this node, 1..DLOCK_CLUSTER_ID_MAX */
	struct dlock_cluster_addr listen;	/* port, and address or
						 * AF_UNSPEC */
	size_t n_peers;			/* < DLOCK_CLUSTER_NODES_MAX */
	struct dlock_cluster_peer *peers;
	/* dlock_get_cluster() only; ignored by dlock_set_cluster(): */
	enum dlock_role role;		/* DLOCK_ROLE_NONE when id is 0 */
	uint32_t leader;		/* the leader's id; 0: none known */
	uint64_t term;			/* election term */
	uint64_t commit;		/* log index committed */
	uint64_t stray;			/* datagrams from no peer's address,
					 * dropped */
};

/*
 * dlock_set_cluster() - make the caller's network namespace the node
 * @cluster->id of a cluster with @cluster's peers, replacing the
 * configuration in force as a whole (the same one again changes nothing);
 * @cluster NULL or its id 0: leave the cluster, back to single-node mode.
 * A refused configuration changes nothing; dlock_strerror() says why.
 * Return: 0, -EINVAL (checked before sending: an id out of range, a peer
 * with this node's id or another's, too many peers, an address family
 * other than AF_INET/AF_INET6, port 0), -EPERM, -EOPNOTSUPP (a module
 * without cluster support), or another negative errno.
 */
int dlock_set_cluster(struct dlock *d, const struct dlock_cluster *cluster);

/*
 * dlock_get_cluster() - read the cluster configuration and state of the
 * caller's network namespace into *@out (id 0, role DLOCK_ROLE_NONE: not in
 * a cluster).  Free it with dlock_cluster_free().
 * Return: 0, -EOPNOTSUPP (a module without cluster support), or another
 * negative errno.
 */
int dlock_get_cluster(struct dlock *d, struct dlock_cluster **out);
void dlock_cluster_free(struct dlock_cluster *cluster);

/* ---- cluster keys (cluster.c, LIBDLOCK_1.2) ------------------------------
 *
 * A cluster with a key seals every datagram between its nodes
 * (ChaCha20-Poly1305): a node acts only on what a holder of the key sent,
 * and drops everything else, counted by reason.  Without a key anyone who
 * can reach a node's UDP port can speak for its peers.  Keys are
 * DLOCK_CLUSTER_KEY_LEN random bytes, the same on every node; the kernel
 * never gives one back, only its fingerprint.
 */

/*
 * dlock_set_cluster_keyed() - dlock_set_cluster() with the cluster key @key
 * (DLOCK_CLUSTER_KEY_LEN bytes: this node seals with it and accepts it)
 * and optionally @key2 (accepted too, for key rotation; NULL: none).
 * @key NULL: no key, exactly dlock_set_cluster().  A change of keys alone
 * on a node that has one is applied without restarting it.
 * Return: as dlock_set_cluster(); -EINVAL also for @key2 without @key, or
 * two keys with the same key id (the same key, or 1 chance in 256);
 * -EOPNOTSUPP also when the kernel lacks ChaCha20-Poly1305.
 */
int dlock_set_cluster_keyed(struct dlock *d, const struct dlock_cluster *cluster,
			    const uint8_t *key, const uint8_t *key2);

/*
 * dlock_set_cluster_sealed() - dlock_set_cluster_keyed() that also sets the
 * cluster id @cluster_id (0: none), the same on every node of one cluster:
 * it is in every sealed datagram's header and bound into its
 * authentication, so two clusters that share a key but not the id do not
 * accept each other's datagrams (dropped as "wrong cluster").  A cluster id
 * needs @key (datagrams without a key carry none).  Changing it restarts
 * the node.
 * Return: as dlock_set_cluster_keyed(); -EINVAL also for an id without a key.
 */
int dlock_set_cluster_sealed(struct dlock *d, const struct dlock_cluster *cluster,
			     uint32_t cluster_id, const uint8_t *key,
			     const uint8_t *key2);

/* Datagrams from one peer's address dropped by the seal checks. */
struct dlock_cluster_peer_auth {
	uint32_t id;			/* the peer's node id */
	uint64_t drops[16];		/* by enum dlock_seal_drop; [0] unused */
};

/* Whether a cluster node is keyed, and what its seal checks dropped. */
struct dlock_cluster_auth {
	int n_keys;			/* 0: no key, not authenticated */
	uint8_t key_fp[2][DLOCK_CLUSTER_KEY_FP_LEN];	/* fingerprints */
	size_t n_peers;			/* 0 when n_keys is 0 */
	struct dlock_cluster_peer_auth *peers;
	/* the cluster id (0: none); the library allocates this structure */
	uint32_t cluster_id;
};

/*
 * dlock_get_cluster_auth() - the keys (by fingerprint) and seal drop
 * counters of the caller's namespace's node into *@out (n_keys 0: no key,
 * or not in a cluster).  Free it with dlock_cluster_auth_free().
 * Return: 0 or a negative errno, as dlock_get_cluster().
 */
int dlock_get_cluster_auth(struct dlock *d, struct dlock_cluster_auth **out);
void dlock_cluster_auth_free(struct dlock_cluster_auth *auth);

#ifdef __cplusplus
}
#endif

#endif /* LIBDLOCK_H */
