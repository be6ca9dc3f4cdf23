// SPDX-License-Identifier: GPL-2.0
/*
 * Cases 1-3 of dlock-bench: clients looping acquire+release, one client on
 * one lock, 16 on 16 locks, 16 on one lock (hand-off, fairness).
 */
#define _GNU_SOURCE
#include <math.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "bench.h"

/* ---- cases 1-3: clients looping acquire+release ----------------------- */

struct loop_run {
	enum backend b;
	int nclients;
	bool shared_lock;	/* case 3: every client on lock 0 */
	atomic_int stop, finished;
	long max_pairs;
	pthread_barrier_t start;
	atomic_int inside[MAX_LOCKS];	/* overlap detector */
	atomic_long violations;
	uint64_t last_token[MAX_LOCKS];	/* dlock: written only inside */
	atomic_long token_errors;
	size_t cap;		/* latency samples per client */
};

struct loop_client {
	struct loop_run *run;
	struct client c;
	int id;
	long pairs;
	uint64_t *lat;
	size_t nlat;
	int failed;
	char err[128];
};

static void *loop_thread(void *arg)
{
	struct loop_client *lc = arg;
	struct loop_run *run = lc->run;
	int idx = run->shared_lock ? 0 : lc->id;
	uint64_t prev;

	if (client_open(&lc->c, run->b, lc->id)) {
		lc->failed = 1;
		snprintf(lc->err, sizeof(lc->err), "%s", lc->c.err);
	}
	pthread_barrier_wait(&run->start);
	/*
	 * One clock read per pair (the end of one pair starts the next): in
	 * the guest a read is a system call and an emulated HPET access.
	 */
	prev = now_ns();
	while (!lc->failed && !atomic_load_explicit(&run->stop, memory_order_relaxed)) {
		uint64_t t1;

		if (run->max_pairs && lc->pairs >= run->max_pairs)
			break;
		if (client_lock(&lc->c, idx, opt.ttl_ms)) {
			lc->failed = 1;
			break;
		}
		if (atomic_fetch_add(&run->inside[idx], 1) != 0)
			atomic_fetch_add(&run->violations, 1);
		if (run->b == B_DLOCK) {
			if (lc->c.token[idx] <= run->last_token[idx])
				atomic_fetch_add(&run->token_errors, 1);
			run->last_token[idx] = lc->c.token[idx];
		}
		atomic_fetch_sub(&run->inside[idx], 1);
		if (client_unlock(&lc->c, idx)) {
			lc->failed = 1;
			break;
		}
		t1 = now_ns();
		if (atomic_load(&run->stop))
			break;	/* finished after the bell: not counted */
		if (lc->nlat < run->cap)
			lc->lat[lc->nlat++] = t1 - prev;
		prev = t1;
		lc->pairs++;
	}
	if (lc->failed && !lc->err[0])
		snprintf(lc->err, sizeof(lc->err), "%s", lc->c.err);
	client_close(&lc->c);
	atomic_fetch_add(&run->finished, 1);
	return NULL;
}

void case_loop(int cas, enum backend b, int round)
{
	int n = cas == 1 ? 1 : MAX_CLIENTS;
	struct loop_run *run = calloc(1, sizeof(*run));
	struct loop_client *lc = calloc(n, sizeof(*lc));
	pthread_t th[MAX_CLIENTS];
	struct result r = { .cas = cas, .b = b, .round = round, .ok = true };
	size_t total = 0;
	uint64_t *all;
	long pairs = 0, minp = -1, maxp = 0;
	uint64_t t0, t1;

	run->b = b;
	run->nclients = n;
	run->shared_lock = cas == 3;
	run->max_pairs = opt.max_pairs ? (cas == 1 ? opt.max_pairs * 10 : opt.max_pairs) : 0;
	run->cap = 4000000 / n;
	pthread_barrier_init(&run->start, NULL, n + 1);
	for (int i = 0; i < n; i++) {
		lc[i].run = run;
		lc[i].id = i;
		lc[i].lat = malloc(run->cap * sizeof(uint64_t));
		pthread_create(&th[i], NULL, loop_thread, &lc[i]);
	}
	/* Every client is connected before the clock starts. */
	pthread_barrier_wait(&run->start);
	t0 = now_ns();
	do {
		sleep_us(opt.max_pairs ? 2000 : 10000);
		t1 = now_ns();
	} while (atomic_load(&run->finished) < n && t1 - t0 < (uint64_t)(opt.dur * 1e9));
	atomic_store(&run->stop, 1);
	for (int i = 0; i < n; i++)
		pthread_join(th[i], NULL);
	if (opt.max_pairs)
		t1 = now_ns();
	for (int i = 0; i < n; i++) {
		if (lc[i].failed)
			fail(&r, "client %d: %s", i, lc[i].err);
		pairs += lc[i].pairs;
		total += lc[i].nlat;
		if (minp < 0 || lc[i].pairs < minp)
			minp = lc[i].pairs;
		if (lc[i].pairs > maxp)
			maxp = lc[i].pairs;
	}
	all = malloc((total ? total : 1) * sizeof(uint64_t));
	total = 0;
	for (int i = 0; i < n; i++) {
		memcpy(all + total, lc[i].lat, lc[i].nlat * sizeof(uint64_t));
		total += lc[i].nlat;
		free(lc[i].lat);
	}
	qsort(all, total, sizeof(uint64_t), cmp_u64);
	kv(&r, "ops_per_s", pairs / ((t1 - t0) / 1e9));
	kv(&r, "p50_us", pct_us(all, total, 50));
	kv(&r, "p99_us", pct_us(all, total, 99));
	kv(&r, "pairs", pairs);
	kv(&r, "secs", (t1 - t0) / 1e9);
	kv(&r, "clients", n);
	if (cas == 3) {
		kv(&r, "min_grants", minp);
		kv(&r, "max_grants", maxp);
		kv(&r, "fairness", minp > 0 ? (double)maxp / minp : INFINITY);
	}
	kv(&r, "violations", atomic_load(&run->violations));
	if (b == B_DLOCK)
		kv(&r, "token_errors", atomic_load(&run->token_errors));
	if (atomic_load(&run->violations))
		fail(&r, "mutual exclusion broken: %ld overlaps",
		     atomic_load(&run->violations));
	if (atomic_load(&run->token_errors))
		fail(&r, "fencing tokens did not rise %ld times",
		     atomic_load(&run->token_errors));
	if (!pairs)
		fail(&r, "no acquire+release completed");
	emit(&r);
	free(all);
	free(lc);
	pthread_barrier_destroy(&run->start);
	free(run);
}
