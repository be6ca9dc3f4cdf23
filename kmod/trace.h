/* SPDX-License-Identifier: GPL-2.0 */
/*
 * dlock's tracepoints (tracefs events/dlock/, perf list 'dlock:*'): one per
 * lease outcome (grant, release, owner death, expiry, break) and per wait
 * outcome (queued, timed out, refused as a deadlock), fired where the
 * counter of the same outcome moves (observe.c).  Names and owner strings
 * are copied as they are: printable or not, they are the client's bytes.
 * docs/observability.md shows them used from perf and bpftrace.
 */
#undef TRACE_SYSTEM
#define TRACE_SYSTEM dlock

#if !defined(DLOCK_TRACE_H) || defined(TRACE_HEADER_MULTI_READ)
#define DLOCK_TRACE_H

#include <linux/tracepoint.h>

#include "table.h"

/*
 * The fields use C's own type names, not u32/u64: without kernel headers
 * or BTF (a kernel of one's own, a container) bpftrace compiles the event's
 * format file as it is, and only the C names are known to it there.
 */

/* So that perf and trace-cmd can print the modes by name too. */
TRACE_DEFINE_ENUM(DL_MODE_EXCLUSIVE);
TRACE_DEFINE_ENUM(DL_MODE_SHARED);
TRACE_DEFINE_ENUM(DL_MODE_SEMAPHORE);

#define dlock_show_mode(m)						\
	__print_symbolic(m, { DL_MODE_EXCLUSIVE, "exclusive" },	\
			 { DL_MODE_SHARED, "shared" },			\
			 { DL_MODE_SEMAPHORE, "semaphore" })

/*
 * A lease's owner: its socket's session and tag, or (session 0) a detached
 * owner's string; an empty string for a socket-bound owner.
 */
#define dlock_owner_len(o)	((o)->detached ? (o)->len : 0)

DECLARE_EVENT_CLASS(dlock_lease,
	TP_PROTO(u32 netns, const struct dl_event *ev, u32 pid),
	TP_ARGS(netns, ev, pid),
	TP_STRUCT__entry(
		__field(unsigned int, netns)
		__field(unsigned int, uid)
		__field(unsigned int, pid)
		__field(unsigned int, permits)
		__field(unsigned char, mode)
		__field(unsigned long long, token)
		__field(unsigned long long, session)
		__field(unsigned long long, tag)
		__dynamic_array(char, name, ev->name_len + 1)
		__dynamic_array(char, owner, dlock_owner_len(&ev->owner) + 1)
	),
	TP_fast_assign(
		__entry->netns = netns;
		__entry->uid = ev->owner.uid;
		__entry->pid = pid;
		__entry->permits = ev->mode == DL_MODE_SEMAPHORE ?
				   ev->permits : 0;
		__entry->mode = ev->mode;
		__entry->token = ev->token;
		__entry->session = ev->owner.detached ? 0 :
				   ev->owner.session_id;
		__entry->tag = ev->owner.detached ? 0 : ev->owner.tag;
		memcpy(__get_str(name), ev->name, ev->name_len);
		__get_str(name)[ev->name_len] = '\0';
		memcpy(__get_str(owner), ev->owner.str,
		       dlock_owner_len(&ev->owner));
		__get_str(owner)[dlock_owner_len(&ev->owner)] = '\0';
	),
	TP_printk("netns=%u name=%s mode=%s permits=%u token=%llu session=%llu tag=%llu owner=%s uid=%u pid=%u",
		  __entry->netns, __get_str(name),
		  dlock_show_mode(__entry->mode), __entry->permits,
		  __entry->token, __entry->session, __entry->tag,
		  __get_str(owner), __entry->uid, __entry->pid)
);

DEFINE_EVENT(dlock_lease, dlock_grant,
	TP_PROTO(u32 netns, const struct dl_event *ev, u32 pid),
	TP_ARGS(netns, ev, pid));
DEFINE_EVENT(dlock_lease, dlock_release,
	TP_PROTO(u32 netns, const struct dl_event *ev, u32 pid),
	TP_ARGS(netns, ev, pid));
DEFINE_EVENT(dlock_lease, dlock_owner_died,
	TP_PROTO(u32 netns, const struct dl_event *ev, u32 pid),
	TP_ARGS(netns, ev, pid));
DEFINE_EVENT(dlock_lease, dlock_expire,
	TP_PROTO(u32 netns, const struct dl_event *ev, u32 pid),
	TP_ARGS(netns, ev, pid));
DEFINE_EVENT(dlock_lease, dlock_break,
	TP_PROTO(u32 netns, const struct dl_event *ev, u32 pid),
	TP_ARGS(netns, ev, pid));

/*
 * A request that did not get its lease at once, and @why: "queued", or the
 * table's reason for refusing it (a static string).  Its session is the
 * requesting socket's (also for a detached owner), and (session, cookie)
 * names the wait in dlock_wait_timeout and in WAIT_DONE.
 */
#define dlock_rq_owner_len(rq)	((rq)->flags & DL_ACQ_DETACHED ?	\
				 (rq)->owner_len : 0)

DECLARE_EVENT_CLASS(dlock_request,
	TP_PROTO(u32 netns, const struct dl_acquire_req *rq, u64 session,
		 u32 pid, const char *why),
	TP_ARGS(netns, rq, session, pid, why),
	TP_STRUCT__entry(
		__field(unsigned int, netns)
		__field(unsigned int, uid)
		__field(unsigned int, pid)
		__field(unsigned int, permits)
		__field(unsigned int, wait_ms)
		__field(unsigned char, mode)
		__field(unsigned long long, session)
		__field(unsigned long long, tag)
		__field(unsigned long long, cookie)
		__dynamic_array(char, name, rq->name_len + 1)
		__dynamic_array(char, owner, dlock_rq_owner_len(rq) + 1)
		__dynamic_array(char, why, strlen(why) + 1)
	),
	TP_fast_assign(
		__entry->netns = netns;
		__entry->uid = rq->uid;
		__entry->pid = pid;
		__entry->permits = rq->permits;
		__entry->wait_ms = rq->wait_ms;
		__entry->mode = rq->mode;
		__entry->session = session;
		__entry->tag = rq->tag;
		__entry->cookie = rq->cookie;
		memcpy(__get_str(name), rq->name, rq->name_len);
		__get_str(name)[rq->name_len] = '\0';
		memcpy(__get_str(owner), rq->owner, dlock_rq_owner_len(rq));
		__get_str(owner)[dlock_rq_owner_len(rq)] = '\0';
		memcpy(__get_str(why), why, strlen(why) + 1);
	),
	TP_printk("netns=%u name=%s mode=%s permits=%u session=%llu tag=%llu owner=%s uid=%u pid=%u cookie=%llu wait_ms=%u why=\"%s\"",
		  __entry->netns, __get_str(name),
		  dlock_show_mode(__entry->mode), __entry->permits,
		  __entry->session, __entry->tag, __get_str(owner),
		  __entry->uid, __entry->pid, __entry->cookie,
		  __entry->wait_ms, __get_str(why))
);

DEFINE_EVENT(dlock_request, dlock_wait,
	TP_PROTO(u32 netns, const struct dl_acquire_req *rq, u64 session,
		 u32 pid, const char *why),
	TP_ARGS(netns, rq, session, pid, why));
DEFINE_EVENT(dlock_request, dlock_deadlock,
	TP_PROTO(u32 netns, const struct dl_acquire_req *rq, u64 session,
		 u32 pid, const char *why),
	TP_ARGS(netns, rq, session, pid, why));

/*
 * The table tells only the session, cookie and name of a wait that timed
 * out: dlock_wait with the same (netns, session, cookie) has the rest.
 */
TRACE_EVENT(dlock_wait_timeout,
	TP_PROTO(u32 netns, const struct dl_wait_done *wd, u64 session),
	TP_ARGS(netns, wd, session),
	TP_STRUCT__entry(
		__field(unsigned int, netns)
		__field(unsigned long long, session)
		__field(unsigned long long, cookie)
		__dynamic_array(char, name, wd->name_len + 1)
	),
	TP_fast_assign(
		__entry->netns = netns;
		__entry->session = session;
		__entry->cookie = wd->cookie;
		memcpy(__get_str(name), wd->name, wd->name_len);
		__get_str(name)[wd->name_len] = '\0';
	),
	TP_printk("netns=%u name=%s session=%llu cookie=%llu",
		  __entry->netns, __get_str(name), __entry->session,
		  __entry->cookie)
);

#endif /* DLOCK_TRACE_H */

/* An out-of-tree module: define_trace.h finds this file by -I$(src). */
#undef TRACE_INCLUDE_PATH
#define TRACE_INCLUDE_PATH .
#undef TRACE_INCLUDE_FILE
#define TRACE_INCLUDE_FILE trace
#include <trace/define_trace.h>
