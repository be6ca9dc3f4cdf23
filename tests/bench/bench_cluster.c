// SPDX-License-Identifier: GPL-2.0
/*
 * Case 8 of dlock-bench: acquire+release against one node of a 3-node
 * cluster (dlock, or etcd through its v3 JSON gateway).  tests/bench/
 * cluster-bench builds the cluster and runs `dlock-bench --cluster LABEL`
 * inside one node's network namespace; each round is 1 client on 1 lock,
 * then 16 clients on 16 locks, each client looping a blocking acquire
 * (dlock: socket-bound, no TTL; etcd: its lease) and a release.  The pair
 * and the acquire alone are timed.  An overlap detector and (dlock) rising
 * fencing tokens check mutual exclusion among this process's clients.
 * A dlock command refused with EAGAIN ("no leader yet", an election on
 * the loaded host) is repeated after 10 ms, as a client would, for up to
 * 20 s; the time it took stays in the figures and the repeats are counted.
 * With --udp-peer, the netlink and UDP round trips an acquire on a follower
 * is made of are timed before and after the clients (bench_rtt.c).
 */
#include <errno.h>

#include "bench.h"

/* dlock's acquire or release, repeated while refused with EAGAIN. */
static int cl_dlock(struct client *c, int idx, bool acquire, long *retries)
{
	struct dlock_acquire_opts o = { .flags = DLOCK_F_NO_TTL };
	struct dlock_lease l;
	uint64_t until = now_ns() + 20000000000ull;
	int err;

	for (;;) {
		err = acquire ? dlock_acquire(c->d, lock_name(idx), &o, &l) :
				dlock_release(c->d, lock_name(idx), NULL);
		if (err != -EAGAIN || now_ns() > until)
			break;
		(*retries)++;
		sleep_us(10000);
	}
	if (err < 0) {
		snprintf(c->err, sizeof(c->err), "dlock_%s: %s",
			 acquire ? "acquire" : "release",
			 dlock_strerror(c->d, err));
		return -1;
	}
	if (acquire)
		c->token[idx] = l.token;
	return 0;
}

static int cl_lock(struct client *c, int idx, long *retries)
{
	return c->b == B_DLOCK ? cl_dlock(c, idx, true, retries) :
				 client_lock(c, idx, 0);
}

static int cl_unlock(struct client *c, int idx, long *retries)
{
	return c->b == B_DLOCK ? cl_dlock(c, idx, false, retries) :
				 client_unlock(c, idx);
}

static void run_clients(enum backend b, int n, int round)
{
	struct result r = { .cas = 8, .b = b, .round = round, .ok = true };
	struct pairs p = {
		.b = b, .clients = n, .time_acquire = true,
		.max_pairs = opt.max_pairs, .cap = 400000 / n, .poll_us = 10000,
		.lock = cl_lock, .unlock = cl_unlock,
	};

	snprintf(r.variant, sizeof(r.variant), "%s-%d", opt.cluster, n);
	pairs_run(&p, &r);
	kv(&r, "ops_per_s", p.pairs / p.secs);
	kv(&r, "acq_p50_us", pct_us(p.acq, p.nlat, 50));
	kv(&r, "acq_p99_us", pct_us(p.acq, p.nlat, 99));
	kv(&r, "p50_us", pct_us(p.pair, p.nlat, 50));
	kv(&r, "p99_us", pct_us(p.pair, p.nlat, 99));
	kv(&r, "pairs", p.pairs);
	kv(&r, "secs", p.secs);
	kv(&r, "clients", n);
	kv(&r, "violations", p.violations);
	if (b == B_DLOCK) {
		kv(&r, "token_errors", p.token_errors);
		kv(&r, "eagain_repeats", p.retries);
	}
	pairs_check(&p, &r);
	emit(&r);
	pairs_free(&p);
}

/* With --udp-peer: the round trips an acquire on a follower is made of. */
static void floor_row(int round)
{
	struct result r = { .cas = 8, .b = B_DLOCK, .round = round, .ok = true };

	snprintf(r.variant, sizeof(r.variant), "%s-floor", opt.cluster);
	rtt_floor(&r, opt.udp_peer, opt.smoke ? 20 : 200);
	emit(&r);
}

void case_cluster(enum backend b, int round)
{
	bool floor = b == B_DLOCK && opt.udp_peer;

	/* Before and after the clients: the load may change meanwhile. */
	if (floor)
		floor_row(round);
	run_clients(b, 1, round);
	run_clients(b, MAX_CLIENTS, round);
	if (floor)
		floor_row(round);
}
