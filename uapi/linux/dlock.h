/* SPDX-License-Identifier: (GPL-2.0 WITH Linux-syscall-note) OR MIT */
/*
 * dlock: a lock service in the kernel.  This header is the ABI between the
 * dlock module and userspace (libdlock, dlockctl, or any generic netlink
 * client).  Every value below is explicit and never changes meaning; new
 * commands and attributes are only ever appended.
 *
 * Transport: the generic netlink family DLOCK_GENL_NAME, version
 * DLOCK_GENL_VERSION.  The family is network-namespace aware: each network
 * namespace has its own lease table and its own counters, and a request is
 * served by the table of the namespace of the socket that sent it.
 *
 * Requests are validated strictly: an unknown attribute, an attribute of the
 * wrong size, or a reply-only attribute in a request is rejected with -EINVAL
 * and an extended ack message naming the problem.
 */
#ifndef _UAPI_LINUX_DLOCK_H
#define _UAPI_LINUX_DLOCK_H

#define DLOCK_GENL_NAME		"dlock"
#define DLOCK_GENL_VERSION	1

/*
 * Multicast groups carrying lock events (granted, released, expired, ...).
 * Anyone may join DLOCK_MCGRP_EVENTS: its events say which uid the owner
 * has and carry %DLOCK_A_HIDDEN instead of the owner (string, tag,
 * session).  DLOCK_MCGRP_EVENTS_ADMIN carries the same events with the
 * owner; joining it needs CAP_NET_ADMIN in the user namespace that owns the
 * network namespace.
 */
#define DLOCK_MCGRP_EVENTS	"events"
#define DLOCK_MCGRP_EVENTS_ADMIN	"events-admin"

/*
 * A per-user limit (%DLOCK_A_CFG_MAX_USER_*) set to this value takes a share
 * of the namespace's limit in force at each request: 1/16 of
 * %DLOCK_A_CFG_MAX_LEASES or %DLOCK_A_CFG_MAX_WAITERS; for value bytes, 64
 * bytes per lease of that share, at least 64 KiB.  The default.
 */
#define DLOCK_USER_LIMIT_AUTO	0xffffffffU

/* Limits of the values a request carries. */
#define DLOCK_NAME_MAX		255	/* bytes in a lock name (no NUL) */
#define DLOCK_OWNER_MAX		64	/* bytes in a detached owner string */
#define DLOCK_VALUE_MAX		1024	/* bytes in a lease's value */

/**
 * enum dlock_mode - how a lock is held
 * @DLOCK_MODE_EXCLUSIVE: one holder at a time
 * @DLOCK_MODE_SHARED: any number of shared holders, no exclusive one
 * @DLOCK_MODE_SEMAPHORE: up to %DLOCK_A_PERMITS holders; every request on
 *	the lock must name the same number of permits
 */
enum dlock_mode {
	DLOCK_MODE_EXCLUSIVE = 0,
	DLOCK_MODE_SHARED = 1,
	DLOCK_MODE_SEMAPHORE = 2,
};

/**
 * enum dlock_acquire_flags - %DLOCK_A_FLAGS of an acquire
 * @DLOCK_F_TRY: fail with -EAGAIN instead of queueing
 * @DLOCK_F_DETACHED: the lease belongs to the owner string %DLOCK_A_OWNER,
 *	not to the requesting socket; it must have a TTL and outlives the socket
 * @DLOCK_F_NO_TTL: socket-bound only: the lease has no TTL and lives exactly
 *	as long as the requesting socket (or until released or broken)
 */
enum dlock_acquire_flags {
	DLOCK_F_TRY = 1 << 0,
	DLOCK_F_DETACHED = 1 << 1,
	DLOCK_F_NO_TTL = 1 << 2,
};

/**
 * enum dlock_event_type - %DLOCK_A_EVENT of a %DLOCK_CMD_EVENT
 */
enum dlock_event_type {
	DLOCK_EV_GRANTED = 1,
	DLOCK_EV_RELEASED = 2,
	DLOCK_EV_EXPIRED = 3,
	DLOCK_EV_OWNER_DIED = 4,
	DLOCK_EV_BROKEN = 5,
};

/**
 * enum dlock_lost_reason - %DLOCK_A_REASON of a %DLOCK_CMD_LOST
 */
enum dlock_lost_reason {
	DLOCK_LOST_EXPIRED = 1,
	DLOCK_LOST_BROKEN = 2,
};

/**
 * enum dlock_cmd - generic netlink commands
 * @DLOCK_CMD_UNSPEC: never used
 * @DLOCK_CMD_GET_STATUS: report the module version and the counters of the
 *	requester's network namespace.  Request: no attributes.  Reply:
 *	%DLOCK_A_STATUS_VERSION, %DLOCK_A_STATUS_LEASES,
 *	%DLOCK_A_STATUS_WAITERS, %DLOCK_A_STATUS_REQUESTS,
 *	%DLOCK_A_STATUS_NETNS_COOKIE, %DLOCK_A_STATUS_MEMORY.
 * @DLOCK_CMD_ACQUIRE: take a lease.  Request: %DLOCK_A_NAME, %DLOCK_A_MODE,
 *	%DLOCK_A_PERMITS (semaphores), %DLOCK_A_FLAGS, %DLOCK_A_TTL_MS,
 *	%DLOCK_A_WAIT_MS, %DLOCK_A_OWNER_TAG or %DLOCK_A_OWNER (detached),
 *	%DLOCK_A_COOKIE.  Fails with -ESHUTDOWN while the module is being
 *	unloaded (it is refused while any lease or waiter exists).  Reply: %DLOCK_A_TOKEN and %DLOCK_A_COUNT when granted
 *	at once, or %DLOCK_A_QUEUED when the request joined the wait queue, and
 *	%DLOCK_A_TTL_MS, the TTL granted (the one asked for, cut to the
 *	namespace's %DLOCK_A_CFG_MAX_TTL_MS; a holder renews by it); its
 *	outcome then comes as a %DLOCK_CMD_WAIT_DONE to the requesting socket.
 * @DLOCK_CMD_RELEASE: drop one reentrancy level of a lease.  Request:
 *	%DLOCK_A_NAME and %DLOCK_A_OWNER_TAG or %DLOCK_A_OWNER.  Reply:
 *	%DLOCK_A_COUNT, the levels left (0: the lease ended).
 * @DLOCK_CMD_RENEW: restart a lease's TTL.  Request: %DLOCK_A_NAME, the
 *	owner as for release, %DLOCK_A_TTL_MS.  Reply: an empty message.
 * @DLOCK_CMD_GET: one lock (doit, %DLOCK_A_NAME) or all locks (dump,
 *	optional %DLOCK_A_PREFIX).  Reply per lock: %DLOCK_A_NAME,
 *	%DLOCK_A_MODE, %DLOCK_A_PERMITS (semaphores), and one nested
 *	%DLOCK_A_HOLDER or %DLOCK_A_WAITER (enum dlock_entry_attr) per entry,
 *	waiters in queue order.  In a dump, a lock with more entries than
 *	one message holds comes with the entries that fit and
 *	%DLOCK_A_TRUNCATED; a GET of that lock returns all of them.
 * @DLOCK_CMD_BREAK: end a lease by force (CAP_NET_ADMIN).  Request:
 *	%DLOCK_A_NAME and optional %DLOCK_A_TOKEN (default: every holder).
 *	No reply: ask for an acknowledgement (NLM_F_ACK).
 * @DLOCK_CMD_SET_VALUE: attach %DLOCK_A_VALUE to a lease the owner holds.
 *	Request: %DLOCK_A_NAME, the owner as for release, %DLOCK_A_VALUE.
 *	Reply: an empty message.
 * @DLOCK_CMD_CANCEL: withdraw the queued acquire %DLOCK_A_COOKIE on
 *	%DLOCK_A_NAME made from this socket.  No reply: ask for an
 *	acknowledgement (NLM_F_ACK).
 *
 * Every command that has a reply answers errors with NLMSG_ERROR whether or
 * not the request asked for an acknowledgement.
 *
 * Users: every request is made by the uid of the sending process as the
 * user namespace owning the network namespace maps it.  A detached lease
 * belongs to its owner string and that uid: release, renew, set-value and
 * acquiring as its owner from another uid fail with -EPERM ("lease belongs
 * to another user") unless the caller has CAP_NET_ADMIN in that user
 * namespace.  %DLOCK_CMD_GET shows the owner, pid, command, session, value
 * and cookie of another uid's entries only to such a caller; others get
 * %DLOCK_E_UID, the mode, token, count and remaining time, and
 * %DLOCK_E_HIDDEN.  Per-uid limits (%DLOCK_A_CFG_MAX_USER_*) fail an
 * acquire or set-value with -EDQUOT; a privileged caller is not held to
 * them.
 * @DLOCK_CMD_WAIT_DONE: kernel to requester: a queued acquire ended.
 *	%DLOCK_A_NAME, %DLOCK_A_COOKIE, %DLOCK_A_SESSION, %DLOCK_A_ERROR (0:
 *	granted, else a positive errno such as ETIMEDOUT), %DLOCK_A_TOKEN when
 *	granted.
 * @DLOCK_CMD_LOST: kernel to holder: a socket-bound lease ended without
 *	its owner asking.  %DLOCK_A_NAME, %DLOCK_A_OWNER_TAG, %DLOCK_A_SESSION,
 *	%DLOCK_A_TOKEN, %DLOCK_A_REASON.
 *
 * WAIT_DONE and LOST go to the socket that made the request (the session
 * %DLOCK_A_SESSION names), never to another socket that bound its port id
 * later.  If one cannot be delivered (the receive buffer is full, or there
 * is no memory for a LOST), the socket's next read fails with ENOBUFS, as
 * for any message netlink drops: look the locks up again (%DLOCK_CMD_GET).
 * (Also on a socket that set NETLINK_NO_ENOBUFS: the module cannot see it.)
 * A WAIT_DONE is allocated with the wait and never fails for want of
 * memory.
 * @DLOCK_CMD_EVENT: multicast on %DLOCK_MCGRP_EVENTS_ADMIN: %DLOCK_A_EVENT,
 *	%DLOCK_A_NAME, %DLOCK_A_MODE, %DLOCK_A_TOKEN, %DLOCK_A_UID and the owner
 *	(%DLOCK_A_OWNER_TAG with %DLOCK_A_SESSION, or %DLOCK_A_OWNER); on
 *	%DLOCK_MCGRP_EVENTS the same with %DLOCK_A_HIDDEN instead of the owner.
 * @DLOCK_CMD_GET_CONFIG: the limits of the requester's network namespace.
 *	Request: no attributes.  Reply: %DLOCK_A_CFG_MAX_TTL_MS,
 *	%DLOCK_A_CFG_MAX_LEASES, %DLOCK_A_CFG_MAX_WAITERS,
 *	%DLOCK_A_CFG_MAX_SOCKET_LEASES, %DLOCK_A_CFG_MAX_SOCKET_WAITERS,
 *	%DLOCK_A_CFG_MAX_USER_LEASES, %DLOCK_A_CFG_MAX_USER_WAITERS,
 *	%DLOCK_A_CFG_MAX_USER_VALUE_BYTES and the per-user limits in force
 *	(%DLOCK_A_CFG_USER_LEASES, %DLOCK_A_CFG_USER_WAITERS,
 *	%DLOCK_A_CFG_USER_VALUE_BYTES).  A new namespace starts with the
 *	module parameters of the same names.
 * @DLOCK_CMD_SET_CONFIG: change some of those limits (CAP_NET_ADMIN in the
 *	user namespace that owns the network namespace).  Request: one or
 *	more of the %DLOCK_A_CFG_* attributes; the others keep their value.
 *	Reply: as %DLOCK_CMD_GET_CONFIG, the limits now in force.  A change
 *	applies to the next request; leases and waiters already admitted are
 *	kept even above a lowered cap.  Beyond a cap an acquire fails with
 *	-ENOSPC (namespace caps) or -EDQUOT (socket and user caps).
 */
enum dlock_cmd {
	DLOCK_CMD_UNSPEC = 0,
	DLOCK_CMD_GET_STATUS = 1,
	DLOCK_CMD_ACQUIRE = 2,
	DLOCK_CMD_RELEASE = 3,
	DLOCK_CMD_RENEW = 4,
	DLOCK_CMD_GET = 5,
	DLOCK_CMD_BREAK = 6,
	DLOCK_CMD_SET_VALUE = 7,
	DLOCK_CMD_CANCEL = 8,
	DLOCK_CMD_WAIT_DONE = 9,
	DLOCK_CMD_LOST = 10,
	DLOCK_CMD_EVENT = 11,
	DLOCK_CMD_GET_CONFIG = 12,
	DLOCK_CMD_SET_CONFIG = 13,

	__DLOCK_CMD_MAX,
	DLOCK_CMD_MAX = __DLOCK_CMD_MAX - 1
};

/**
 * enum dlock_attr - top-level attributes
 * @DLOCK_A_UNSPEC: never used
 * @DLOCK_A_PAD: alignment padding for 64-bit attributes
 * @DLOCK_A_STATUS_VERSION: string, reply only: the module's version
 * @DLOCK_A_STATUS_LEASES: u64, reply only: leases held in this namespace
 * @DLOCK_A_STATUS_WAITERS: u64, reply only: requests queued in this namespace
 * @DLOCK_A_STATUS_REQUESTS: u64, reply only: requests this namespace's table
 *	has served since it was created (this status request included)
 * @DLOCK_A_STATUS_NETNS_COOKIE: u64, reply only: the namespace's cookie, a
 *	number that identifies it for as long as the system runs
 * @DLOCK_A_CFG_MAX_TTL_MS: u32 >= 1: the longest TTL granted; a longer one
 *	is cut to it
 * @DLOCK_A_CFG_MAX_LEASES: u32: leases in the namespace (0: no limit)
 * @DLOCK_A_CFG_MAX_WAITERS: u32: queued acquires in the namespace (0: no
 *	limit)
 * @DLOCK_A_CFG_MAX_SOCKET_LEASES: u32: socket-bound leases one socket may
 *	hold (0: no limit)
 * @DLOCK_A_CFG_MAX_SOCKET_WAITERS: u32: acquires one socket may have queued
 *	(0: no limit)
 * @DLOCK_A_UID: u32, events: the uid of the lease's owner (see "Users")
 * @DLOCK_A_CFG_MAX_USER_LEASES: u32: leases one uid may hold in the
 *	namespace, socket-bound and detached, from any number of sockets (0:
 *	no limit; %DLOCK_USER_LIMIT_AUTO: a share of %DLOCK_A_CFG_MAX_LEASES)
 * @DLOCK_A_CFG_MAX_USER_WAITERS: u32: acquires one uid may have queued (0:
 *	no limit; %DLOCK_USER_LIMIT_AUTO: a share of %DLOCK_A_CFG_MAX_WAITERS)
 * @DLOCK_A_CFG_MAX_USER_VALUE_BYTES: u32: bytes of values on the leases of
 *	one uid (0: no limit; %DLOCK_USER_LIMIT_AUTO: see there)
 * @DLOCK_A_HIDDEN: flag, events on %DLOCK_MCGRP_EVENTS: the owner is not
 *	shown
 * @DLOCK_A_CFG_USER_LEASES: u32, reply only: the per-user lease limit in
 *	force now, the share worked out (0: none)
 * @DLOCK_A_CFG_USER_WAITERS: u32, reply only: the same for waiters
 * @DLOCK_A_CFG_USER_VALUE_BYTES: u32, reply only: the same for value bytes
 */
enum dlock_attr {
	DLOCK_A_UNSPEC = 0,
	DLOCK_A_PAD = 1,
	DLOCK_A_STATUS_VERSION = 2,
	DLOCK_A_STATUS_LEASES = 3,
	DLOCK_A_STATUS_WAITERS = 4,
	DLOCK_A_STATUS_REQUESTS = 5,
	DLOCK_A_STATUS_NETNS_COOKIE = 6,
	DLOCK_A_NAME = 7,	/* binary, 1..DLOCK_NAME_MAX bytes, no NUL */
	DLOCK_A_MODE = 8,	/* u8, enum dlock_mode */
	DLOCK_A_PERMITS = 9,	/* u32 >= 1, semaphores */
	DLOCK_A_FLAGS = 10,	/* u32, enum dlock_acquire_flags */
	DLOCK_A_TTL_MS = 11,	/* u32 */
	DLOCK_A_WAIT_MS = 12,	/* u32, 0 or absent: wait without limit */
	DLOCK_A_OWNER_TAG = 13,	/* u64, socket-bound owner within the socket */
	DLOCK_A_OWNER = 14,	/* binary, 1..DLOCK_OWNER_MAX, detached owner */
	DLOCK_A_COOKIE = 15,	/* u64, names a queued acquire */
	DLOCK_A_TOKEN = 16,	/* u64, fencing token */
	DLOCK_A_COUNT = 17,	/* u32, reentrancy count */
	DLOCK_A_QUEUED = 18,	/* flag, reply: the acquire is queued */
	DLOCK_A_PREFIX = 19,	/* binary, dump filter */
	DLOCK_A_VALUE = 20,	/* binary, 0..DLOCK_VALUE_MAX */
	DLOCK_A_HOLDER = 21,	/* nested, enum dlock_entry_attr */
	DLOCK_A_WAITER = 22,	/* nested, enum dlock_entry_attr */
	DLOCK_A_ERROR = 23,	/* u32, positive errno */
	DLOCK_A_REASON = 24,	/* u8, enum dlock_lost_reason */
	DLOCK_A_EVENT = 25,	/* u8, enum dlock_event_type */
	DLOCK_A_SESSION = 26,	/* u64, the session (socket) of an owner */
	DLOCK_A_CFG_MAX_TTL_MS = 27,
	DLOCK_A_CFG_MAX_LEASES = 28,
	DLOCK_A_CFG_MAX_WAITERS = 29,
	DLOCK_A_CFG_MAX_SOCKET_LEASES = 30,
	DLOCK_A_CFG_MAX_SOCKET_WAITERS = 31,
	DLOCK_A_TRUNCATED = 32,	/* flag, dump reply: entries were left out */
	DLOCK_A_STATUS_MEMORY = 33, /* u64, reply only: bytes of kernel memory
				     * the namespace's lock table holds */
	DLOCK_A_UID = 34,
	DLOCK_A_CFG_MAX_USER_LEASES = 35,
	DLOCK_A_CFG_MAX_USER_WAITERS = 36,
	DLOCK_A_CFG_MAX_USER_VALUE_BYTES = 37,
	DLOCK_A_HIDDEN = 38,
	DLOCK_A_CFG_USER_LEASES = 39,
	DLOCK_A_CFG_USER_WAITERS = 40,
	DLOCK_A_CFG_USER_VALUE_BYTES = 41,

	__DLOCK_A_MAX,
	DLOCK_A_MAX = __DLOCK_A_MAX - 1
};

/**
 * enum dlock_entry_attr - a holder or waiter in a %DLOCK_CMD_GET reply
 */
enum dlock_entry_attr {
	DLOCK_E_UNSPEC = 0,
	DLOCK_E_PAD = 1,
	DLOCK_E_MODE = 2,	/* u8 */
	DLOCK_E_TOKEN = 3,	/* u64, holders */
	DLOCK_E_COUNT = 4,	/* u32, holders: reentrancy count */
	DLOCK_E_OWNER_TAG = 5,	/* u64, socket-bound owners */
	DLOCK_E_SESSION = 6,	/* u64, the owner's session */
	DLOCK_E_OWNER = 7,	/* binary, detached owners */
	DLOCK_E_PID = 8,	/* u32, pid of the requesting process */
	DLOCK_E_UID = 9,	/* u32, the requester's uid in the user
				 * namespace owning the network namespace */
	DLOCK_E_COMM = 10,	/* string */
	DLOCK_E_REMAINING_MS = 11, /* u64, absent: no TTL / no wait limit */
	DLOCK_E_VALUE = 12,	/* binary, holders: the value attached */
	DLOCK_E_COOKIE = 13,	/* u64, waiters: the request's cookie */
	DLOCK_E_HIDDEN = 14,	/* flag: another uid's entry, shown without
				 * owner, session, pid, comm, value, cookie */

	__DLOCK_E_MAX,
	DLOCK_E_MAX = __DLOCK_E_MAX - 1
};

#endif /* _UAPI_LINUX_DLOCK_H */
