// SPDX-License-Identifier: GPL-2.0
/*
 * Cases 1-3 of dlock-bench: clients looping acquire+release, one client on
 * one lock, 16 on 16 locks, 16 on one lock (hand-off, fairness).
 */
#include <math.h>

#include "bench.h"

static int loop_lock(struct client *c, int idx, long *retries)
{
	(void)retries;
	return client_lock(c, idx, opt.ttl_ms);
}

static int loop_unlock(struct client *c, int idx, long *retries)
{
	(void)retries;
	return client_unlock(c, idx);
}

void case_loop(int cas, enum backend b, int round)
{
	int n = cas == 1 ? 1 : MAX_CLIENTS;
	struct result r = { .cas = cas, .b = b, .round = round, .ok = true };
	struct pairs p = {
		.b = b, .clients = n, .one_lock = cas == 3,
		.max_pairs = opt.max_pairs ?
			(cas == 1 ? opt.max_pairs * 10 : opt.max_pairs) : 0,
		.cap = 4000000 / n, .poll_us = opt.max_pairs ? 2000 : 10000,
		.lock = loop_lock, .unlock = loop_unlock,
	};

	pairs_run(&p, &r);
	kv(&r, "ops_per_s", p.pairs / p.secs);
	kv(&r, "p50_us", pct_us(p.pair, p.nlat, 50));
	kv(&r, "p99_us", pct_us(p.pair, p.nlat, 99));
	kv(&r, "pairs", p.pairs);
	kv(&r, "secs", p.secs);
	kv(&r, "clients", n);
	if (cas == 3) {
		kv(&r, "min_grants", p.min_pairs);
		kv(&r, "max_grants", p.most_pairs);
		kv(&r, "fairness", p.min_pairs > 0 ?
		   (double)p.most_pairs / p.min_pairs : INFINITY);
	}
	kv(&r, "violations", p.violations);
	if (b == B_DLOCK)
		kv(&r, "token_errors", p.token_errors);
	pairs_check(&p, &r);
	emit(&r);
	pairs_free(&p);
}
