/* SPDX-License-Identifier: GPL-2.0 */
/*
 * cluster_test.c's checks of what an operator sees of cluster locks: watch
 * events on another node than the client's, the tracepoints of every
 * outcome on every node (each node fires them as it applies the entry),
 * and the leader's per-peer lag.  Included once by cluster_test.c, after
 * cluster_lib.h (nodes[], open_in(), cl_try(), ...).
 *
 * Planted bugs these checks catch (KCFLAGS=-DDLOCK_PLANT_...):
 * CL_NO_WATCH (no watch event on apply), CL_NO_TRACE (cluster grants not
 * traced), CL_LAG_LAST (the lag is the leader's last index: the peer's
 * match index not subtracted).
 */
#ifndef DLOCK_CLUSTER_OBS_H
#define DLOCK_CLUSTER_OBS_H

#include <sys/mount.h>
#include <sys/stat.h>

#include "cluster_lib.h"

/* ---- watch events ----------------------------------------------------- */

struct cl_event {
	int type;
	uint64_t token, session;
};

/* The next event about @name on @c within @ms: 0, or -ETIMEDOUT. */
static int cl_next_event(struct client *c, const char *name, int ms,
			 struct cl_event *ev)
{
	uint64_t end = now_ms() + ms;
	struct nlraw_msg m;
	struct nlattr *a;
	int len, cmd;

	for (;;) {
		int left = (int)(end - now_ms());

		if (left <= 0)
			return -ETIMEDOUT;
		cmd = nlraw_note(c->fd, left, &m, &len);
		if (cmd < 0)
			return cmd;
		a = nlraw_attr(&m, len, DLOCK_A_NAME);
		if (cmd != DLOCK_CMD_EVENT || !a ||
		    a->nla_len - NLA_HDRLEN != (int)strlen(name) ||
		    memcmp(nlraw_data(a), name, strlen(name)))
			continue;
		ev->type = nlraw_u8(&m, len, DLOCK_A_EVENT);
		ev->token = nlraw_u64(&m, len, DLOCK_A_TOKEN);
		ev->session = nlraw_u64(&m, len, DLOCK_A_SESSION);
		return 0;
	}
}

/* A client of @n's namespace that listens to the owners' events group. */
static bool cl_watcher(struct node *n, struct client *w)
{
	int grp;

	open_in(n, w);
	grp = nlraw_mcast_group(w->fd, DLOCK_GENL_NAME,
				DLOCK_MCGRP_EVENTS_ADMIN);
	return grp > 0 && !setsockopt(w->fd, SOL_NETLINK,
				      NETLINK_ADD_MEMBERSHIP, &grp,
				      sizeof(grp));
}

/* ---- tracepoints ------------------------------------------------------ */

#define CL_TRACEFS	"/sys/kernel/tracing"

static char cl_trace_dir[96];

static bool cl_write(const char *path, const char *what)
{
	int fd = open(path, O_WRONLY);
	bool ok;

	if (fd < 0)
		return false;
	ok = write(fd, what, strlen(what)) == (ssize_t)strlen(what);
	close(fd);
	return ok;
}

/* A trace instance of our own (nobody else writes or clears its buffer). */
static bool cl_trace_start(void)
{
	char path[160];
	struct stat sb;

	if (stat(CL_TRACEFS "/instances", &sb))
		mount("nodev", CL_TRACEFS, "tracefs", 0, NULL);
	snprintf(cl_trace_dir, sizeof(cl_trace_dir),
		 CL_TRACEFS "/instances/dlock-cluster-%d", getpid());
	rmdir(cl_trace_dir);
	if (mkdir(cl_trace_dir, 0700))
		return false;
	snprintf(path, sizeof(path), "%s/events/dlock/enable", cl_trace_dir);
	return cl_write(path, "1");
}

/* Stops tracing; the instance's trace, malloc()ed, NUL-terminated. */
static char *cl_trace_stop(void)
{
	size_t len = 0, cap = 1 << 16;
	char path[160], *buf = malloc(cap);
	ssize_t n;
	int fd;

	snprintf(path, sizeof(path), "%s/events/dlock/enable", cl_trace_dir);
	cl_write(path, "0");
	snprintf(path, sizeof(path), "%s/trace", cl_trace_dir);
	fd = open(path, O_RDONLY);
	while (buf && fd >= 0 &&
	       (n = read(fd, buf + len, cap - len - 1)) > 0) {
		len += n;
		if (cap - len < 4096)
			buf = realloc(buf, cap *= 2);
	}
	if (fd >= 0)
		close(fd);
	if (buf)
		buf[len] = 0;
	rmdir(cl_trace_dir);
	return buf;
}

/*
 * How many lines of @trace are event @ev on lock @name in node @n's
 * namespace; *@line (if set) the last one.
 */
static int cl_traced(const char *trace, const char *ev, struct node *n,
		     const char *name, const char **line)
{
	char key[256];
	const char *p = trace;
	struct stat sb;
	int count = 0;

	if (!trace || fstat(n->nsfd, &sb))
		return -1;
	snprintf(key, sizeof(key), " %s: netns=%lu name=%s ", ev,
		 (unsigned long)sb.st_ino, name);
	while ((p = strstr(p, key))) {
		count++;
		if (line)
			*line = p;
		p += strlen(key);
	}
	return count;
}

/* The value of "@key=" in the trace line at @line, as a number. */
static uint64_t cl_field(const char *line, const char *key)
{
	char k[32];
	const char *eol = strchr(line, '\n'), *p;

	snprintf(k, sizeof(k), " %s=", key);
	p = strstr(line, k);
	if (!p || (eol && p > eol))
		return ~0ULL;
	return strtoull(p + strlen(k), NULL, 10);
}

/* Each node traced @ev on @name exactly once, with @token if not 0. */
static void cl_expect_traced(const char *trace, const char *ev,
			     const char *name, uint64_t token, const char *what)
{
	int i, bad = 0, counts[N];

	for (i = 0; i < N; i++) {
		const char *line = NULL;

		counts[i] = cl_traced(trace, ev, &nodes[i], name, &line);
		if (counts[i] != 1 ||
		    (token && cl_field(line, "token") != token) ||
		    (line && cl_field(line, "pid") != 0 &&
		     cl_field(line, "pid") != ~0ULL))
			bad++;
	}
	tap_ok(!bad, "%s: %s traced once on each node, no pid (%d %d %d times)",
	       ev, what, counts[0], counts[1], counts[2]);
}

/* ---- the test --------------------------------------------------------- */

/*
 * Client A's lock seen by a watcher on node B; one of each outcome of the
 * cluster table, traced on every node.  Own clients (closed at the end):
 * the break's LOST and the WAIT_DONEs do not reach nodes[].cl.
 */
static void test_watch_trace(int A, int B)
{
	const char *w = lname("clw"), *w2 = lname("clw2"),
		   *w3 = lname("clw3"), *d1 = lname("cld1"),
		   *d2 = lname("cld2");
	struct client wb, ca, cb;
	struct acq q = { .flags = DLOCK_F_NO_TTL };
	uint64_t tw, tw2, tw3, end;
	struct result res;
	struct cl_event ev = { 0 };
	struct note note;
	char *trace;
	bool traced, seen, gone = false;
	int i, got;

	tap_ok(cl_watcher(&nodes[B], &wb), "a watcher on node B joins the events group");
	open_in(&nodes[A], &ca);
	open_in(&nodes[B], &cb);
	traced = cl_trace_start();
	tap_ok(traced, "a trace instance with the dlock events (%s)", cl_trace_dir);

	/* grant and release on A, watched from B */
	cl_try(&ca, w, &res);
	tw = res.token;
	got = cl_next_event(&wb, w, 3000, &ev);
	tap_ok(!res.error && !got && ev.type == DLOCK_EV_GRANTED &&
	       ev.token == tw && ev.session >> 32 == (uint64_t)A,
	       "watcher on node B: GRANTED of node A's lock, its token and session (got %d type %d token %llu/%llu session %llx)",
	       got, ev.type, (unsigned long long)ev.token,
	       (unsigned long long)tw, (unsigned long long)ev.session);
	cl_release(&ca, w, &res);
	memset(&ev, 0, sizeof(ev));
	got = cl_next_event(&wb, w, 3000, &ev);
	tap_ok(!res.error && !got && ev.type == DLOCK_EV_RELEASED &&
	       ev.token == tw,
	       "watcher on node B: RELEASED by node A, same token (got %d type %d)",
	       got, ev.type);

	/* a wait that times out, then a break of the lease it waited for */
	cl_try(&ca, w2, &res);
	tw2 = res.token;
	q.name = w2;
	q.wait_ms = 300;
	q.cookie = 9;
	cl_acquire(&cb, &q, &res);
	tap_ok(!res.error && res.queued, "node B's acquire of node A's lock queued, 300 ms limit");
	got = cl_note(&cb, 5000, &note);
	tap_ok(got == DLOCK_CMD_WAIT_DONE && note.error == ETIMEDOUT,
	       "node B's wait times out (note %d error %u)", got, note.error);
	CL_RETRY(break_lock(&cb, w2, 0, &res), &res);
	tap_ok(!res.error, "node B breaks node A's lease (error %d \"%s\")",
	       res.error, res.extack);

	/* a lease that expires */
	q = (struct acq){ .name = w3, .flags = DLOCK_F_TRY, .ttl_ms = 300 };
	cl_acquire(&ca, &q, &res);
	tw3 = res.token;
	/* Seen held on B first: B may not have applied the grant yet. */
	seen = !res.error && wait_holder_token(&nodes[B].cl, w3, 3000) == tw3;
	end = now_ms() + 5000;
	while (seen && !gone && now_ms() < end) {
		gone = !holder_token(&nodes[B].cl, w3);
		if (!gone)
			nap(50);
	}
	tap_ok(seen && gone,
	       "a 300 ms lease taken on node A, held then gone on node B (it expired)");

	/* a deadlock: A holds d1 and waits for d2, which B holds; B asks d1 */
	cl_try(&ca, d1, &res);
	cl_try(&cb, d2, &res);
	q = (struct acq){ .name = d2, .flags = DLOCK_F_NO_TTL, .cookie = 11 };
	cl_acquire(&ca, &q, &res);
	tap_ok(!res.error && res.queued, "node A holds d1 and waits for d2");
	q = (struct acq){ .name = d1, .flags = DLOCK_F_NO_TTL, .cookie = 12 };
	cl_acquire(&cb, &q, &res);
	tap_ok(res.error == EDEADLK,
	       "node B asking for d1 is refused as a deadlock (error %d \"%s\")",
	       res.error, res.extack);
	client_close(&ca);
	client_close(&cb);
	client_close(&wb);
	/* The closes' CLIENT_ENDs apply on every node before the trace ends. */
	end = now_ms() + 5000;
	for (i = 0; i < N && now_ms() < end;) {
		if (holder_token(&nodes[i].cl, d1) ||
		    holder_token(&nodes[i].cl, d2))
			nap(50);
		else
			i++;
	}
	if (!traced)
		return;
	trace = cl_trace_stop();
	cl_expect_traced(trace, "dlock_grant", w, tw, "node A's lock");
	cl_expect_traced(trace, "dlock_release", w, tw, "by node A");
	cl_expect_traced(trace, "dlock_wait", w2, 0, "node B's queued acquire");
	cl_expect_traced(trace, "dlock_wait_timeout", w2, 0, "after 300 ms");
	cl_expect_traced(trace, "dlock_break", w2, tw2, "by node B");
	cl_expect_traced(trace, "dlock_expire", w3, tw3, "after its TTL");
	cl_expect_traced(trace, "dlock_deadlock", d1, 0, "node B's acquire");
	for (i = 0; i < N; i++)
		if (cl_traced(trace, "dlock_owner_died", &nodes[i], d1, NULL) != 1)
			break;
	tap_ok(i == N, "dlock_owner_died: node A's d1 when its socket closed, on each node");
	free(trace);
}

/*
 * The leader reports each peer's lag, 0 once caught up; followers none.
 * The leader is looked up again: an election may have moved it.
 */
static void test_lag(void)
{
	struct cl_state st;
	uint64_t end = now_ms() + 3000, term;
	int i, caught = 0, present = 0, L, F;

	L = wait_leader(10000, &term);
	F = (L + 1) % N;
	printf("# lag: leader node %u, term %llu\n", nodes[L].id,
	       (unsigned long long)term);
	do {
		get_cluster(&nodes[L].cl, &st);
		present = caught = 0;
		for (i = 0; i < st.npeers; i++) {
			present += st.peer[i].has_lag;
			caught += st.peer[i].has_lag && !st.peer[i].lag;
		}
		if (caught == N - 1)
			break;
		nap(50);
	} while (now_ms() < end);
	tap_ok(st.npeers == N - 1 && present == N - 1 && caught == N - 1,
	       "leader: DLOCK_P_LAG of each peer, 0 once caught up (%d present, %d at 0; lag %llu %llu)",
	       present, caught, (unsigned long long)st.peer[0].lag,
	       (unsigned long long)st.peer[1].lag);
	get_cluster(&nodes[F].cl, &st);
	present = 0;
	for (i = 0; i < st.npeers; i++)
		present += st.peer[i].has_lag;
	tap_ok(st.npeers == N - 1 && !present,
	       "follower: no DLOCK_P_LAG (not known there; %d present)", present);
}

#endif /* DLOCK_CLUSTER_OBS_H */
