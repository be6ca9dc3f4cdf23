// SPDX-License-Identifier: GPL-2.0
/*
 * The lease caps under concurrency (issue 11): the namespace cap, the
 * per-session cap and the per-uid cap hold exactly while acquires run at the
 * same time on different shards, as they do in the module (each command
 * holds only its shard's lock on the uncontended path).
 *
 * Threads take names that live on different shards and count, outside the
 * table, how many leases they hold at once: a grant is counted after the
 * table returned it and uncounted before the release, so the count never
 * exceeds what the table really holds.  The allocator yields, as a kernel
 * allocation may sleep, which widens any window between the cap check and
 * the count the check reads.  Built plain and with ThreadSanitizer.
 *
 *   test_caps [--tsan] [CASE...]    CASE: table, session, user
 */
#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tap.h"
#include "table.h"

#define CAP 3
#define THREADS 6
#define SHARDS 8
#define ITERS 3000

static const char *prefix = "";

#define AADD(p, v) __atomic_add_fetch((p), (v), __ATOMIC_SEQ_CST)
#define ALOAD(p) __atomic_load_n((p), __ATOMIC_SEQ_CST)

static struct {
	struct dl_table *t;
	pthread_mutex_t shard[SHARDS];
	pthread_mutex_t global;
	struct dl_session *shared;	/* the "session" case: one socket */
	char names[THREADS][16];
	long held, peak, grants, refused, bad;
	u64 token;
} C;

static void *c_alloc(void *priv, enum dl_obj kind, size_t size)
{
	(void)priv;
	(void)kind;
	sched_yield();
	return malloc(size);
}

static void c_free(void *priv, enum dl_obj kind, void *p, size_t size)
{
	(void)priv;
	(void)kind;
	(void)size;
	free(p);
}

static u64 c_token(struct dl_cmd *cx)
{
	(void)cx;
	return AADD(&C.token, 1);
}

static void c_set_timer(struct dl_cmd *cx, u32 shard, u64 d)
{
	(void)cx;
	(void)shard;
	(void)d;
}

static void c_wait_done(struct dl_cmd *cx, const struct dl_wait_done *wd)
{
	(void)cx;
	(void)wd;
	AADD(&C.bad, 1);	/* nothing here ever waits */
}

static void c_lost(struct dl_cmd *cx, const struct dl_lost *ls)
{
	(void)cx;
	(void)ls;
}

static void c_event(struct dl_cmd *cx, const struct dl_event *ev)
{
	(void)cx;
	(void)ev;
}

static const struct dl_table_ops c_ops = {
	.alloc = c_alloc, .free = c_free, .next_token = c_token,
	.set_timer = c_set_timer, .wait_done = c_wait_done,
	.lost = c_lost, .event = c_event,
};

/* Names on pairwise different shards, one per thread. */
static void pick_names(void)
{
	bool used[SHARDS] = { false };
	int n = 0, i;

	for (i = 0; n < THREADS; i++) {
		char buf[16];
		u32 sh;

		snprintf(buf, sizeof(buf), "c%d", i);
		sh = dl_shard_of(C.t, buf, strlen(buf));
		if (used[sh])
			continue;
		used[sh] = true;
		memcpy(C.names[n++], buf, sizeof(buf));
	}
}

static void note_held(long delta)
{
	long h = AADD(&C.held, delta), p;

	while (delta > 0 && h > (p = ALOAD(&C.peak)))
		__atomic_compare_exchange_n(&C.peak, &p, h, false,
					    __ATOMIC_SEQ_CST, __ATOMIC_SEQ_CST);
}

static void *worker(void *arg)
{
	int id = (int)(long)arg, i, k;
	const char *name = C.names[id];
	u32 len = strlen(name), shard = dl_shard_of(C.t, name, len);
	struct dl_session *s = C.shared ? C.shared :
			       dl_session_create(C.t, 100 + id);
	struct dl_acquire_req rq = {
		.name = name, .name_len = len, .mode = DL_MODE_EXCLUSIVE,
		.flags = DL_ACQ_TRY | DL_ACQ_NO_TTL, .sess = s, .tag = id,
		.uid = 1000,
	};
	struct dl_owner_ref o = { .sess = s, .tag = id, .uid = 1000 };

	for (i = 0; i < ITERS; i++) {
		struct dl_cmd cx = { .now = 1 };
		struct dl_acquire_res res;
		int rc;

		pthread_mutex_lock(&C.shard[shard]);
		rc = dl_acquire(C.t, &cx, &rq, &res);
		pthread_mutex_unlock(&C.shard[shard]);
		if (rc) {
			if (rc != -ENOSPC && rc != -EDQUOT)
				AADD(&C.bad, 1);
			AADD(&C.refused, 1);
			sched_yield();
			continue;
		}
		AADD(&C.grants, 1);
		note_held(1);
		for (k = 0; k < 2; k++)
			sched_yield();
		note_held(-1);
		pthread_mutex_lock(&C.shard[shard]);
		if (dl_release(C.t, &cx, name, len, &o, NULL))
			AADD(&C.bad, 1);
		pthread_mutex_unlock(&C.shard[shard]);
	}
	if (!C.shared && dl_session_destroy(C.t, s))
		AADD(&C.bad, 1);
	return NULL;
}

/* Runs the threads against a table with @cfg; @shared: one session. */
static void hammer(const char *what, struct dl_table_config *cfg, bool shared)
{
	pthread_t th[THREADS];
	long i;

	memset(&C, 0, sizeof(C));
	cfg->nr_shards = SHARDS;
	pthread_mutex_init(&C.global, NULL);
	for (i = 0; i < SHARDS; i++)
		pthread_mutex_init(&C.shard[i], NULL);
	C.t = dl_table_create(cfg, &c_ops, NULL);
	pick_names();
	if (shared)
		C.shared = dl_session_create(C.t, 1);
	for (i = 0; i < THREADS; i++)
		pthread_create(&th[i], NULL, worker, (void *)i);
	for (i = 0; i < THREADS; i++)
		pthread_join(th[i], NULL);
	printf("# %s: %ld grants, %ld refused, peak %ld held\n", what,
	       C.grants, C.refused, C.peak);
	tap_ok(C.peak <= CAP, "%s%s: %d threads on %d shards never held more than the cap of %d (peak %ld)",
	       prefix, what, THREADS, THREADS, CAP, C.peak);
	tap_ok(!C.bad && C.grants > 0 && C.refused > 0 &&
	       !dl_table_check(C.t),
	       "%s%s: the cap refused and admitted, with its own error; table consistent",
	       prefix, what);
	if (C.shared && dl_session_destroy(C.t, C.shared))
		C.bad++;
	dl_table_destroy(C.t);
}

static void test_table_cap(void)
{
	struct dl_table_config cfg = { .max_leases = CAP };

	hammer("namespace cap", &cfg, false);
}

static void test_session_cap(void)
{
	struct dl_table_config cfg = { .max_session_leases = CAP };

	hammer("session cap", &cfg, true);
}

static void test_user_cap(void)
{
	struct dl_table_config cfg = { .max_user_leases = CAP };

	hammer("uid cap", &cfg, false);
}

static const struct {
	const char *name;
	void (*run)(void);
} cases[] = {
	{ "table", test_table_cap },
	{ "session", test_session_cap },
	{ "user", test_user_cap },
};

int main(int argc, char **argv)
{
	int i, j, ran = 0;

	if (argc > 1 && !strcmp(argv[1], "--tsan")) {
		prefix = "tsan: ";
		argc--;
		argv++;
	}
	for (i = 1; i < argc; i++) {
		for (j = 0; j < (int)ARRAY_SIZE(cases); j++)
			if (!strcmp(argv[i], cases[j].name))
				break;
		if (j == (int)ARRAY_SIZE(cases)) {
			fprintf(stderr, "test_caps: no case %s\n", argv[i]);
			return 2;
		}
		cases[j].run();
		ran++;
	}
	for (j = 0; !ran && j < (int)ARRAY_SIZE(cases); j++)
		cases[j].run();
	return tap_done();
}
