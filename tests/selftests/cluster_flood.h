/* SPDX-License-Identifier: GPL-2.0 */
/*
 * A node flooded with datagrams from a peer's source address, which anyone
 * on the network can send.  Whatever the flood does to the node, its
 * clients must be answered, a holder there must hear that its lease is in
 * doubt before any other node grants the lock, and the node must come back
 * once the flood ends.  cluster_test floods an unkeyed node with junk (at
 * its receive queue's default and at a queue of one datagram);
 * cluster_seal_test a keyed node with forgeries that empty its token
 * bucket for the leader, so that the leader's own datagrams are dropped.
 */
#ifndef DLOCK_CLUSTER_FLOOD_H
#define DLOCK_CLUSTER_FLOOD_H

#include <poll.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/wait.h>

#include "cluster_lib.h"

#define FLOODERS	3
#define FLOOD_MS	6000	/* twice cluster_session_ms (cluster_test.sh) */

/* Shared with the children: what they sent and what the prober saw. */
struct flood_shared {
	uint64_t sent[FLOODERS];
	int probes, granted, odd, odd_error;
	uint64_t slowest;
};

/*
 * Forks FLOODERS processes that send @buf from @from's address to @to's
 * cluster port until killed, each counting what it sent.
 */
static inline int flood_start(struct node *from, struct node *to,
			      const void *buf, int len, pid_t *pid,
			      struct flood_shared *sh)
{
	struct sockaddr_in dst = cluster_port_of(to);
	int i, fd;

	for (i = 0; i < FLOODERS; i++) {
		fd = udp_socket_from(from);
		if (fd < 0)
			return -1;
		pid[i] = fork();
		if (pid[i] < 0)
			return -1;
		if (!pid[i]) {
			/* the test must read its notes as they come */
			if (nice(19) < 0)
				_exit(1);
			for (;;)
				if (sendto(fd, buf, len, 0,
					   (struct sockaddr *)&dst,
					   sizeof(dst)) > 0)
					sh->sent[i]++;
		}
		close(fd);
	}
	return 0;
}

static inline uint64_t flood_stop(pid_t *pid, struct flood_shared *sh)
{
	uint64_t n = 0;
	int i;

	for (i = 0; i < FLOODERS; i++) {
		if (pid[i] > 0) {
			kill(pid[i], SIGKILL);
			waitpid(pid[i], NULL, 0);
		}
		n += sh->sent[i];
	}
	return n;
}

/* Datagrams from @from dropped by node @at, and accepted. */
static inline void flood_counts(struct node *at, struct node *from,
				uint64_t *dropped, uint64_t *rx)
{
	struct cl_state st;
	struct peer_state *p;

	get_cluster(&at->cl, &st);
	p = peer_of(&st, from->id);
	*dropped = p ? p->dropped : 0;
	*rx = p ? p->rx : 0;
}

/*
 * Every second for FLOOD_MS, a try and a release of @name through @c (a
 * client of the flooded node), in a child: a request may take its whole
 * answer window, and the parent must read notes as they come meanwhile.
 */
static inline pid_t flood_prober(struct client *c, const char *name,
				 struct flood_shared *sh)
{
	uint64_t end = now_ms() + FLOOD_MS;
	struct result res;
	pid_t pid = fork();

	if (pid)
		return pid;
	while (now_ms() < end) {
		uint64_t s, took;

		nap(1000);
		s = now_ms();
		try_lock(c, name, &res);
		took = now_ms() - s;
		sh->slowest = took > sh->slowest ? took : sh->slowest;
		sh->probes++;
		if (!res.error) {
			sh->granted++;
			release(c, name, 0, NULL, &res);
		} else if (res.error != EAGAIN && res.error != ETIMEDOUT) {
			/* a node cut off from its leader says one of those */
			sh->odd++;
			sh->odd_error = res.error;
		}
	}
	_exit(0);
}

/* Until a note is there for @a or @b, or @ms pass. */
static inline void flood_poll(struct client *a, struct client *b, int ms)
{
	struct pollfd p[2] = { { .fd = a->fd, .events = POLLIN },
			       { .fd = b->fd, .events = POLLIN } };

	poll(p, 2, ms);
}

/* What B's holder and A's waiter heard, and when (now_ms()). */
struct flood_heard {
	uint64_t t_lost;	/* B's holder: LOST of its lease */
	uint64_t t_wa;		/* A's waiter: its WAIT_DONE */
	uint64_t tg;		/* the token A's waiter was granted */
	bool granted;
};

/*
 * The first note of @hb (B's holder, token @tb) and of @wa (A's waiter),
 * stamped when read; hb's is read first, so both read at once get one
 * stamp and fail the order check (it cannot be told).  A's wait may also
 * end without the lock (ETIMEDOUT): with cluster_rxq_max 1, a module-wide
 * setting, A's own node may drop enough of the leader's datagrams for the
 * leader to end its session.  False on a note that should not come.
 */
static inline bool flood_notes(struct client *hb, uint64_t tb,
			       struct client *wa, struct flood_heard *h)
{
	struct note n;
	bool ok = true;

	if (!h->t_lost && next_note(hb, 0, &n) >= 0) {
		h->t_lost = now_ms();
		ok = n.cmd == DLOCK_CMD_LOST && n.token == tb;
		printf("# B's holder: note %d, reason %d, token %llx (its lease's %llx)\n",
		       n.cmd, n.reason, (unsigned long long)n.token,
		       (unsigned long long)tb);
	}
	if (!h->t_wa && next_note(wa, 0, &n) >= 0) {
		h->t_wa = now_ms();
		h->granted = n.cmd == DLOCK_CMD_WAIT_DONE && !n.error;
		h->tg = h->granted ? n.token : 0;
		ok &= n.cmd == DLOCK_CMD_WAIT_DONE &&
		      (n.error == ETIMEDOUT || (!n.error && n.token > tb));
		printf("# A's waiter: note %d, error %u, token %llx\n", n.cmd,
		       n.error, (unsigned long long)n.token);
	}
	return ok;
}

/*
 * Node B is sent @buf from node F's address for FLOOD_MS by FLOODERS
 * processes while a client of B holds a lock without TTL and a client of
 * node A waits for it; every second another client of B takes and releases
 * another lock.  @cut: the flood must cut B off (its holder told that its
 * lease is in doubt); otherwise B may keep its lease or lose it, but A's
 * waiter is never granted before B's holder was told.
 */
static inline void flood_run(const char *what, int F, int A, int B,
			     const void *buf, int len, bool cut)
{
	const char *d = lname("clf"), *e = lname("clf-probe");
	struct acq a = { .name = d, .flags = DLOCK_F_NO_TTL, .cookie = 77 };
	struct flood_shared *sh;
	struct client hb, wa, pb;
	struct result res;
	pid_t pid[FLOODERS] = { 0 }, prober;
	struct flood_heard h = { 0 };
	uint64_t t0, tb, holder;
	uint64_t drop0, rx0, drop1, rx1, total;
	bool ok;
	int err;

	sh = mmap(NULL, sizeof(*sh), PROT_READ | PROT_WRITE,
		  MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (sh == MAP_FAILED)
		die("mmap");
	memset(sh, 0, sizeof(*sh));
	open_in(&nodes[B], &hb);
	open_in(&nodes[B], &pb);
	open_in(&nodes[A], &wa);
	cl_try(&hb, d, &res);
	tb = res.token;
	err = res.error;
	cl_acquire(&wa, &a, &res);
	tap_ok(!err && !res.error && res.queued,
	       "%s: a lock without TTL held by a client of node B, a client of node A waits (errors %d %d)",
	       what, err, res.error);
	flood_counts(&nodes[B], &nodes[F], &drop0, &rx0);
	t0 = now_ms();
	err = flood_start(&nodes[F], &nodes[B], buf, len, pid, sh);
	prober = err ? -1 : flood_prober(&pb, e, sh);
	ok = !err && prober > 0;
	while (ok && now_ms() < t0 + FLOOD_MS) {
		ok = flood_notes(&hb, tb, &wa, &h);
		flood_poll(&hb, &wa, 2);
	}
	total = flood_stop(pid, sh);
	if (prober > 0)
		waitpid(prober, NULL, 0);
	flood_counts(&nodes[B], &nodes[F], &drop1, &rx1);
	tap_ok(ok && total >= 1000 && drop1 - drop0 >= total / 2,
	       "%s: %llu datagrams from node %u's address to node B in %d ms, %llu counted dropped there (node %u's own accepted meanwhile: %llu)",
	       what, (unsigned long long)total, nodes[F].id, FLOOD_MS,
	       (unsigned long long)(drop1 - drop0), nodes[F].id,
	       (unsigned long long)(rx1 - rx0));
	/*
	 * Each probe answered within the 3 s window, as a cut-off node does
	 * (so a cut-off node makes two in FLOOD_MS, one that is not makes six).
	 */
	tap_ok(sh->probes >= 2 && !sh->odd && sh->slowest <= 4500,
	       "%s: node B answered its client all along: %d tries, %d granted, the rest EAGAIN or ETIMEDOUT (other: %d, error %d), slowest %llu ms",
	       what, sh->probes, sh->granted, sh->odd, sh->odd_error,
	       (unsigned long long)sh->slowest);
	/* After the flood, notes may still come: B's doubt, then A's grant. */
	for (t0 = now_ms(); ok && now_ms() < t0 + 8000 && !(h.t_lost && h.t_wa);
	     flood_poll(&hb, &wa, 2)) {
		ok = flood_notes(&hb, tb, &wa, &h);
		/* B kept its lease and A waits: the flood changed nothing. */
		if (!cut && !h.t_lost && now_ms() > t0 + 4000)
			break;
	}
	tap_ok(ok && (!h.granted || (h.t_lost && h.t_lost < h.t_wa)) &&
	       (!cut || h.t_lost),
	       "%s: no grant elsewhere before B's holder was told (LOST %s, A's waiter %s, %lld ms apart)%s",
	       what, h.t_lost ? "heard" : "none",
	       h.granted ? "granted" : h.t_wa ? "ended without the lock" : "waits",
	       h.t_lost && h.t_wa ? (long long)(h.t_wa - h.t_lost) : 0LL,
	       cut ? "; B was cut off" : "");
	/*
	 * B is back: it shows the lock's holder as A does (A's waiter's if it
	 * was granted), and grants.
	 */
	t0 = now_ms() + 15000;
	do {
		holder = holder_token(&wa, d);
		if (holder_token(&pb, d) == holder &&
		    (!h.granted || holder == h.tg))
			break;
		nap(100);
	} while (now_ms() < t0);
	cl_try(&pb, e, &res);
	tap_ok(holder_token(&pb, d) == holder && (!h.granted || holder == h.tg) &&
	       !res.error,
	       "%s: node B serves again (the lock's holder as on node A, token %llx; a try: error %d)",
	       what, (unsigned long long)holder, res.error);
	cl_release(&pb, e, &res);
	cl_release(h.granted ? &wa : &hb, d, &res);
	client_close(&hb);
	client_close(&pb);
	client_close(&wa);
	munmap(sh, sizeof(*sh));
}

/*
 * cluster_test: junk from the leader's address to follower B, through
 * B's receive queue at its default, and at one datagram.
 */
static inline void test_flood_junk(int L, int A, int B, unsigned int rxq)
{
	char junk[64], what[40];

	memset(junk, 0x5a, sizeof(junk));
	snprintf(what, sizeof(what), "flood (queue %u)", rxq);
	tap_ok(!set_param("cluster_rxq_max", rxq), "%s: node B's queue set", what);
	flood_run(what, L, A, B, junk, sizeof(junk), false);
	set_param("cluster_rxq_max", 512);
}

#endif /* DLOCK_CLUSTER_FLOOD_H */
