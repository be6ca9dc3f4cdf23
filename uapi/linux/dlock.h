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

/* Multicast group carrying lock events (granted, released, expired, ...). */
#define DLOCK_MCGRP_EVENTS	"events"

/**
 * enum dlock_cmd - generic netlink commands
 * @DLOCK_CMD_UNSPEC: never used
 * @DLOCK_CMD_GET_STATUS: report the module version and the counters of the
 *	requester's network namespace.  Request: no attributes.  Reply:
 *	%DLOCK_A_STATUS_VERSION, %DLOCK_A_STATUS_LEASES,
 *	%DLOCK_A_STATUS_WAITERS, %DLOCK_A_STATUS_REQUESTS,
 *	%DLOCK_A_STATUS_NETNS_COOKIE.
 */
enum dlock_cmd {
	DLOCK_CMD_UNSPEC = 0,
	DLOCK_CMD_GET_STATUS = 1,

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
 */
enum dlock_attr {
	DLOCK_A_UNSPEC = 0,
	DLOCK_A_PAD = 1,
	DLOCK_A_STATUS_VERSION = 2,
	DLOCK_A_STATUS_LEASES = 3,
	DLOCK_A_STATUS_WAITERS = 4,
	DLOCK_A_STATUS_REQUESTS = 5,
	DLOCK_A_STATUS_NETNS_COOKIE = 6,

	__DLOCK_A_MAX,
	DLOCK_A_MAX = __DLOCK_A_MAX - 1
};

#endif /* _UAPI_LINUX_DLOCK_H */
