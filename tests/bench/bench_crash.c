// SPDX-License-Identifier: GPL-2.0
/*
 * Cases 4 and 5 of dlock-bench: how soon a waiter gets a lock whose holder
 * is gone, killed (crash hand-off) or silent past its TTL (expiry lateness).
 */
#define _GNU_SOURCE
#include <math.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

#include "bench.h"

/* ---- case 4: crash hand-off ------------------------------------------- */

struct waiter {
	struct client c;
	int idx;
	uint32_t ttl;
	uint64_t granted;
	int failed;
	atomic_int inside;	/* set by the crashed child's pipe byte too */
};

static void *waiter_thread(void *arg)
{
	struct waiter *w = arg;

	if (client_lock(&w->c, w->idx, w->ttl)) {
		w->failed = 1;
		return NULL;
	}
	w->granted = now_ns();
	if (client_unlock(&w->c, w->idx))
		w->failed = 1;
	return NULL;
}

/*
 * A forked holder takes lock @idx (with TTL @hold_ttl), reports, and waits
 * for SIGKILL; a waiter blocks on the lock; we time SIGKILL -> grant.
 * Returns the latency in ns, or 0 with @r failed.
 */
static uint64_t crash_once(struct result *r, enum backend b, int idx,
			   uint32_t hold_ttl)
{
	struct waiter w = { .idx = idx };
	int p[2], status;
	char ch = 0;
	pid_t pid;
	pthread_t th;
	uint64_t t0;

	if (pipe(p)) {
		fail(r, "pipe: %m");
		return 0;
	}
	fflush(NULL);
	pid = fork();
	if (pid < 0) {
		fail(r, "fork: %m");
		return 0;
	}
	if (!pid) {
		struct client hc;

		close(p[0]);
		ch = 'x';
		if (!client_open(&hc, b, 100) && !client_lock(&hc, idx, hold_ttl))
			ch = 'h';
		else
			fprintf(progress(), "%sbench: crash holder: %s\n", opt.tap ? "# " : "", hc.err);
		if (write(p[1], &ch, 1) != 1)
			_exit(1);
		for (;;)
			pause();
	}
	close(p[1]);
	if (read(p[0], &ch, 1) != 1 || ch != 'h') {
		fail(r, "the holder could not take the lock");
		kill(pid, SIGKILL);
		waitpid(pid, &status, 0);
		close(p[0]);
		return 0;
	}
	close(p[0]);
	if (client_open(&w.c, b, 1)) {
		fail(r, "%s", w.c.err);
		kill(pid, SIGKILL);
		waitpid(pid, &status, 0);
		return 0;
	}
	w.ttl = b == B_DLOCK ? 0 : opt.ttl_ms;
	pthread_create(&th, NULL, waiter_thread, &w);
	sleep_us(opt.smoke ? 50000 : 150000);	/* let it block */
	if (w.granted)
		fail(r, "the waiter got the lock while the holder lived");
	t0 = now_ns();
	kill(pid, SIGKILL);
	pthread_join(th, NULL);
	waitpid(pid, &status, 0);
	if (w.failed)
		fail(r, "waiter: %s", w.c.err);
	client_close(&w.c);
	return w.failed ? 0 : w.granted - t0;
}

void case_crash(enum backend b, int round, uint32_t hold_ttl,
		       const char *variant, int samples)
{
	struct result r = { .cas = 4, .b = b, .round = round, .ok = true };
	uint64_t lat[64];
	int n = 0;

	snprintf(r.variant, sizeof(r.variant), "%s", variant);
	for (int i = 0; i < samples && i < 64 && r.ok; i++) {
		uint64_t l = crash_once(&r, b, 4, hold_ttl);

		if (r.ok)
			lat[n++] = l;
	}
	qsort(lat, n, sizeof(lat[0]), cmp_u64);
	kv(&r, "p50_ms", pct_us(lat, n, 50) / 1000);
	kv(&r, "max_ms", n ? lat[n - 1] / 1e6 : NAN);
	kv(&r, "min_ms", n ? lat[0] / 1e6 : NAN);
	kv(&r, "samples", n);
	kv(&r, "hold_ttl_ms", hold_ttl);
	if (!n)
		fail(&r, "no sample");
	emit(&r);
}

/* ---- case 5: expiry lateness ------------------------------------------ */

void case_expiry(enum backend b, int round)
{
	struct result r = { .cas = 5, .b = b, .round = round, .ok = true };
	struct client h, w;
	uint64_t *late = calloc(opt.expiry_samples, sizeof(uint64_t));
	int n = 0, early = 0;
	const uint32_t ttl = opt.expiry_ttl;

	if (client_open(&h, b, 1) || client_open(&w, b, 2)) {
		fail(&r, "%s%s", h.err, w.err);
		goto out;
	}
	/*
	 * Sample -1 warms up and is not counted: the clients are new each
	 * round, and a first request (a session made, the emulator
	 * translating paths not run yet) took 3 to 8 ms in the guest, which
	 * would count as lateness since the nominal expiry is taken before it.
	 */
	for (int i = -1; i < opt.expiry_samples; i++) {
		uint64_t t0 = now_ns(), tg, nominal;

		/* The holder never releases: its lease must expire. */
		if (client_lock(&h, 5, ttl)) {
			fail(&r, "holder: %s", h.err);
			break;
		}
		if (client_lock(&w, 5, b == B_DLOCK ? 0 : opt.ttl_ms)) {
			fail(&r, "waiter: %s", w.err);
			break;
		}
		tg = now_ns();
		/* Counted from before the holder's request: never flattering. */
		nominal = t0 + ttl * 1000000ull;
		if (tg < nominal)
			early++;
		else if (i >= 0)
			late[n++] = tg - nominal;
		if (client_unlock(&w, 5)) {
			fail(&r, "waiter release: %s", w.err);
			break;
		}
		if (b == B_DLOCK)
			dlock_dispatch(h.d);	/* drop the LOST notes */
	}
	qsort(late, n, sizeof(uint64_t), cmp_u64);
	kv(&r, "p50_ms", pct_us(late, n, 50) / 1000);
	kv(&r, "p99_ms", pct_us(late, n, 99) / 1000);
	kv(&r, "max_ms", n ? late[n - 1] / 1e6 : NAN);
	kv(&r, "samples", n);
	kv(&r, "early", early);
	kv(&r, "ttl_ms", ttl);
	if (early)
		fail(&r, "%d grants before the holder's lease could have expired", early);
	if (!n)
		fail(&r, "no sample");
out:
	client_close(&h);
	client_close(&w);
	free(late);
	emit(&r);
}
