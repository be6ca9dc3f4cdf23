// SPDX-License-Identifier: GPL-2.0
/*
 * Clients looping acquire+release, the timed loop of cases 1-3 and 8: one
 * thread a client, started together at a barrier, stopped by the clock or
 * by a count of pairs, with an overlap detector and (dlock) rising fencing
 * tokens to check mutual exclusion among them.
 */
#define _GNU_SOURCE
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "bench.h"

struct pair_run {
	struct pairs *p;
	atomic_int stop, finished;
	pthread_barrier_t start;
	atomic_int inside[MAX_LOCKS];	/* overlap detector */
	atomic_long violations, token_errors;
	uint64_t last_token[MAX_LOCKS];	/* dlock: written only inside */
};

enum { LAT_PAIR, LAT_ACQ, NR_LAT };

struct pair_client {
	struct pair_run *run;
	struct client c;
	int id;
	long pairs, retries;
	uint64_t *lat[NR_LAT];	/* samples: the pair, the acquire alone */
	size_t nlat;
	int failed;
	char err[128];
};

static void *pair_thread(void *arg)
{
	struct pair_client *lc = arg;
	struct pair_run *run = lc->run;
	struct pairs *p = run->p;
	int idx = p->one_lock ? 0 : lc->id;
	uint64_t prev;

	if (client_open(&lc->c, p->b, lc->id)) {
		lc->failed = 1;
		snprintf(lc->err, sizeof(lc->err), "%s", lc->c.err);
	}
	pthread_barrier_wait(&run->start);
	/*
	 * One clock read per pair (the end of one pair starts the next): in
	 * the guest a read is a system call and an emulated HPET access.
	 * Timing the acquire alone costs two more, where asked for.
	 */
	prev = now_ns();
	while (!lc->failed &&
	       !atomic_load_explicit(&run->stop, memory_order_relaxed)) {
		uint64_t t0 = prev, t1 = 0, t2;

		if (p->max_pairs && lc->pairs >= p->max_pairs)
			break;
		if (p->time_acquire)
			t0 = now_ns();
		if (p->lock(&lc->c, idx, &lc->retries)) {
			lc->failed = 1;
			break;
		}
		if (p->time_acquire)
			t1 = now_ns();
		if (atomic_fetch_add(&run->inside[idx], 1) != 0)
			atomic_fetch_add(&run->violations, 1);
		if (p->b == B_DLOCK) {
			if (lc->c.token[idx] <= run->last_token[idx])
				atomic_fetch_add(&run->token_errors, 1);
			run->last_token[idx] = lc->c.token[idx];
		}
		atomic_fetch_sub(&run->inside[idx], 1);
		if (p->unlock(&lc->c, idx, &lc->retries)) {
			lc->failed = 1;
			break;
		}
		t2 = now_ns();
		if (atomic_load(&run->stop))
			break;	/* finished after the bell: not counted */
		if (lc->nlat < p->cap) {
			if (p->time_acquire)
				lc->lat[LAT_ACQ][lc->nlat] = t1 - t0;
			lc->lat[LAT_PAIR][lc->nlat++] = t2 - t0;
		}
		prev = t2;
		lc->pairs++;
	}
	if (lc->failed && !lc->err[0])
		snprintf(lc->err, sizeof(lc->err), "%s", lc->c.err);
	client_close(&lc->c);
	atomic_fetch_add(&run->finished, 1);
	return NULL;
}

/* Every client's samples of one kind in one sorted array. */
static uint64_t *merge(struct pair_client *lc, int n, size_t total, int k)
{
	uint64_t *all = malloc((total ? total : 1) * sizeof(uint64_t));

	total = 0;
	for (int i = 0; i < n; i++) {
		memcpy(all + total, lc[i].lat[k],
		       lc[i].nlat * sizeof(uint64_t));
		total += lc[i].nlat;
		free(lc[i].lat[k]);
	}
	qsort(all, total, sizeof(uint64_t), cmp_u64);
	return all;
}

void pairs_run(struct pairs *p, struct result *r)
{
	int n = p->clients;
	struct pair_run *run = calloc(1, sizeof(*run));
	struct pair_client *lc = calloc(n, sizeof(*lc));
	pthread_t th[MAX_CLIENTS];
	uint64_t t0, t1;

	run->p = p;
	pthread_barrier_init(&run->start, NULL, n + 1);
	for (int i = 0; i < n; i++) {
		lc[i].run = run;
		lc[i].id = i;
		if (p->time_acquire)
			lc[i].lat[LAT_ACQ] = malloc(p->cap * sizeof(uint64_t));
		lc[i].lat[LAT_PAIR] = malloc(p->cap * sizeof(uint64_t));
		pthread_create(&th[i], NULL, pair_thread, &lc[i]);
	}
	/* Every client is connected before the clock starts. */
	pthread_barrier_wait(&run->start);
	t0 = now_ns();
	do {
		sleep_us(p->poll_us);
		t1 = now_ns();
	} while (atomic_load(&run->finished) < n &&
		 t1 - t0 < (uint64_t)(opt.dur * 1e9));
	atomic_store(&run->stop, 1);
	for (int i = 0; i < n; i++)
		pthread_join(th[i], NULL);
	if (p->max_pairs)
		t1 = now_ns();
	p->secs = (t1 - t0) / 1e9;
	p->pairs = p->retries = p->nlat = 0;
	p->min_pairs = -1;
	p->most_pairs = 0;
	for (int i = 0; i < n; i++) {
		if (lc[i].failed)
			fail(r, "client %d: %s", i, lc[i].err);
		p->pairs += lc[i].pairs;
		p->retries += lc[i].retries;
		p->nlat += lc[i].nlat;
		if (p->min_pairs < 0 || lc[i].pairs < p->min_pairs)
			p->min_pairs = lc[i].pairs;
		if (lc[i].pairs > p->most_pairs)
			p->most_pairs = lc[i].pairs;
	}
	p->acq = p->time_acquire ? merge(lc, n, p->nlat, LAT_ACQ) : NULL;
	p->pair = merge(lc, n, p->nlat, LAT_PAIR);
	p->violations = atomic_load(&run->violations);
	p->token_errors = atomic_load(&run->token_errors);
	free(lc);
	pthread_barrier_destroy(&run->start);
	free(run);
}

void pairs_check(const struct pairs *p, struct result *r)
{
	if (p->violations)
		fail(r, "mutual exclusion broken: %ld overlaps", p->violations);
	if (p->token_errors)
		fail(r, "fencing tokens did not rise %ld times",
		     p->token_errors);
	if (!p->pairs)
		fail(r, "no acquire+release completed");
}

void pairs_free(struct pairs *p)
{
	free(p->acq);
	free(p->pair);
}
