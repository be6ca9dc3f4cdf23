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
 */
#define _GNU_SOURCE
#include <errno.h>
#include <math.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "bench.h"

struct cl_run {
	enum backend b;
	atomic_int stop, finished;
	long max_pairs;
	pthread_barrier_t start;
	atomic_int inside[MAX_LOCKS];
	atomic_long violations, token_errors, eagain;
	uint64_t last_token[MAX_LOCKS];
	size_t cap;
};

struct cl_client {
	struct cl_run *run;
	struct client c;
	int id;
	long pairs;
	uint64_t *acq, *pair;
	size_t nlat;
	int failed;
	char err[128];
};

/* dlock's acquire or release, repeated while refused with EAGAIN. */
static int cl_dlock(struct cl_client *lc, int idx, bool acquire)
{
	struct dlock_acquire_opts o = { .flags = DLOCK_F_NO_TTL };
	struct dlock_lease l;
	uint64_t until = now_ns() + 20000000000ull;
	int err;

	for (;;) {
		err = acquire ? dlock_acquire(lc->c.d, lock_name(idx), &o, &l) :
				dlock_release(lc->c.d, lock_name(idx), NULL);
		if (err != -EAGAIN || now_ns() > until)
			break;
		atomic_fetch_add(&lc->run->eagain, 1);
		sleep_us(10000);
	}
	if (err < 0) {
		snprintf(lc->c.err, sizeof(lc->c.err), "dlock_%s: %s",
			 acquire ? "acquire" : "release", dlock_strerror(lc->c.d, err));
		return -1;
	}
	if (acquire)
		lc->c.token[idx] = l.token;
	return 0;
}

static void *cl_thread(void *arg)
{
	struct cl_client *lc = arg;
	struct cl_run *run = lc->run;
	int idx = lc->id;

	if (client_open(&lc->c, run->b, lc->id)) {
		lc->failed = 1;
		snprintf(lc->err, sizeof(lc->err), "%s", lc->c.err);
	}
	pthread_barrier_wait(&run->start);
	while (!lc->failed && !atomic_load_explicit(&run->stop, memory_order_relaxed)) {
		uint64_t t0, t1, t2;

		if (run->max_pairs && lc->pairs >= run->max_pairs)
			break;
		t0 = now_ns();
		if (run->b == B_DLOCK ? cl_dlock(lc, idx, true) : client_lock(&lc->c, idx, 0)) {
			lc->failed = 1;
			break;
		}
		t1 = now_ns();
		if (atomic_fetch_add(&run->inside[idx], 1) != 0)
			atomic_fetch_add(&run->violations, 1);
		if (run->b == B_DLOCK) {
			if (lc->c.token[idx] <= run->last_token[idx])
				atomic_fetch_add(&run->token_errors, 1);
			run->last_token[idx] = lc->c.token[idx];
		}
		atomic_fetch_sub(&run->inside[idx], 1);
		if (run->b == B_DLOCK ? cl_dlock(lc, idx, false) : client_unlock(&lc->c, idx)) {
			lc->failed = 1;
			break;
		}
		t2 = now_ns();
		if (atomic_load(&run->stop))
			break;	/* finished after the bell: not counted */
		if (lc->nlat < run->cap) {
			lc->acq[lc->nlat] = t1 - t0;
			lc->pair[lc->nlat++] = t2 - t0;
		}
		lc->pairs++;
	}
	if (lc->failed && !lc->err[0])
		snprintf(lc->err, sizeof(lc->err), "%s", lc->c.err);
	client_close(&lc->c);
	atomic_fetch_add(&run->finished, 1);
	return NULL;
}

static void run_clients(enum backend b, int n, int round)
{
	struct cl_run *run = calloc(1, sizeof(*run));
	struct cl_client *lc = calloc(n, sizeof(*lc));
	pthread_t th[MAX_CLIENTS];
	struct result r = { .cas = 8, .b = b, .round = round, .ok = true };
	uint64_t *acq, *pair, t0, t1;
	size_t total = 0;
	long pairs = 0;

	snprintf(r.variant, sizeof(r.variant), "%s-%d", opt.cluster, n);
	run->b = b;
	run->max_pairs = opt.max_pairs;
	run->cap = 400000 / n;
	pthread_barrier_init(&run->start, NULL, n + 1);
	for (int i = 0; i < n; i++) {
		lc[i].run = run;
		lc[i].id = i;
		lc[i].acq = malloc(run->cap * sizeof(uint64_t));
		lc[i].pair = malloc(run->cap * sizeof(uint64_t));
		pthread_create(&th[i], NULL, cl_thread, &lc[i]);
	}
	pthread_barrier_wait(&run->start);
	t0 = now_ns();
	do {
		sleep_us(10000);
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
	}
	acq = malloc((total ? total : 1) * sizeof(uint64_t));
	pair = malloc((total ? total : 1) * sizeof(uint64_t));
	total = 0;
	for (int i = 0; i < n; i++) {
		memcpy(acq + total, lc[i].acq, lc[i].nlat * sizeof(uint64_t));
		memcpy(pair + total, lc[i].pair, lc[i].nlat * sizeof(uint64_t));
		total += lc[i].nlat;
		free(lc[i].acq);
		free(lc[i].pair);
	}
	qsort(acq, total, sizeof(uint64_t), cmp_u64);
	qsort(pair, total, sizeof(uint64_t), cmp_u64);
	kv(&r, "ops_per_s", pairs / ((t1 - t0) / 1e9));
	kv(&r, "acq_p50_us", pct_us(acq, total, 50));
	kv(&r, "acq_p99_us", pct_us(acq, total, 99));
	kv(&r, "p50_us", pct_us(pair, total, 50));
	kv(&r, "p99_us", pct_us(pair, total, 99));
	kv(&r, "pairs", pairs);
	kv(&r, "secs", (t1 - t0) / 1e9);
	kv(&r, "clients", n);
	kv(&r, "violations", atomic_load(&run->violations));
	if (b == B_DLOCK) {
		kv(&r, "token_errors", atomic_load(&run->token_errors));
		kv(&r, "eagain_repeats", atomic_load(&run->eagain));
	}
	if (atomic_load(&run->violations))
		fail(&r, "mutual exclusion broken: %ld overlaps",
		     atomic_load(&run->violations));
	if (atomic_load(&run->token_errors))
		fail(&r, "fencing tokens did not rise %ld times",
		     atomic_load(&run->token_errors));
	if (!pairs)
		fail(&r, "no acquire+release completed");
	emit(&r);
	free(acq);
	free(pair);
	free(lc);
	pthread_barrier_destroy(&run->start);
	free(run);
}

void case_cluster(enum backend b, int round)
{
	run_clients(b, 1, round);
	run_clients(b, MAX_CLIENTS, round);
}
