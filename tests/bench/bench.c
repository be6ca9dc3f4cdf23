// SPDX-License-Identifier: GPL-2.0
/*
 * dlock-bench: dlock side by side with flock(2), fcntl OFD locks and Redis
 * (SET NX PX + Lua compare-and-delete through hiredis), case by case, the
 * backends interleaved within every round (A B C D A B C D ...).
 *
 * Every timed path is C: clients are threads with a connection each (a
 * libdlock handle, an open file description, a hiredis connection), crashed
 * holders are forked children killed with SIGKILL.  The raw figures of every
 * round go to a JSON file; tests/bench/report.py turns them into medians and
 * spreads.  With --tap it prints one TAP line per case and backend (the
 * `make check` smoke): the case ran to its end, produced figures, and no two
 * clients were ever inside one lock at once.
 *
 *   dlock-bench [--smoke] [--tap] [--rounds N] [--backends LIST]
 *               [--redis-port P] [--json FILE] [--env NAME] [--scale N]
 *               [--no-redis-30s] [--cases LIST]
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "dlock.h"
#ifdef HAVE_HIREDIS
#include <hiredis/hiredis.h>
#endif

#define MAX_CLIENTS 16
#define MAX_LOCKS 16

enum backend { B_DLOCK, B_FLOCK, B_OFD, B_REDIS, NR_BACKENDS };
static const char *const bname[NR_BACKENDS] = { "dlock", "flock", "ofd", "redis" };

/* ---- options ---------------------------------------------------------- */

static struct {
	bool smoke, tap, redis_30s;
	int rounds;
	bool use[NR_BACKENDS];
	bool cases[7];
	int redis_port;
	const char *json;
	const char *env;
	long scale;
	double dur;		/* seconds per run of cases 1-3 */
	long max_pairs;		/* per client, cases 1-3 (0: duration only) */
	int crash_samples, crash_redis_samples, expiry_samples;
	uint32_t ttl_ms;	/* lease TTL of cases 1-3 and of waiters */
	uint32_t expiry_ttl;	/* case 5 */
	int redis_poll_us;	/* Redis waiters retry SET NX this often */
} opt = {
	.redis_30s = true, .rounds = 5, .redis_port = 6379, .env = "guest",
	.scale = 1000000, .dur = 2.0, .crash_samples = 5,
	.crash_redis_samples = 2, .expiry_samples = 50, .ttl_ms = 30000, .expiry_ttl = 10,
	.redis_poll_us = 1000,
};

static char prefix[64];		/* lock names: bench-<pid>-... */
static char lockdir[128];	/* flock/OFD files, on tmpfs */

/* ---- time and statistics --------------------------------------------- */

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + ts.tv_nsec;
}

static void sleep_us(long us)
{
	struct timespec ts = { us / 1000000, (us % 1000000) * 1000 };

	while (nanosleep(&ts, &ts) && errno == EINTR)
		;
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

/* Percentile @p (0..100) of sorted @v, in microseconds. */
static double pct_us(const uint64_t *v, size_t n, double p)
{
	size_t i;

	if (!n)
		return NAN;
	i = (size_t)(p / 100.0 * (double)(n - 1) + 0.5);
	return (double)v[i] / 1000.0;
}

/* ---- results: raw rows of the JSON file ------------------------------ */

#define MAX_KV 24
struct result {
	int cas;
	char variant[16];
	enum backend b;
	int round;
	int nkv;
	const char *k[MAX_KV];
	double v[MAX_KV];
	bool ok;
	char why[160];
};

static FILE *jf;

/* Progress: stderr, or TAP comments on stdout (one stream keeps lines whole). */
static FILE *progress(void)
{
	return opt.tap ? stdout : stderr;
}

static bool jfirst = true;
static int tapn, tapfail;

static void kv(struct result *r, const char *k, double v)
{
	if (r->nkv < MAX_KV) {
		r->k[r->nkv] = k;
		r->v[r->nkv++] = v;
	}
}

static double kv_get(const struct result *r, const char *k)
{
	for (int i = 0; i < r->nkv; i++)
		if (!strcmp(r->k[i], k))
			return r->v[i];
	return NAN;
}

static void fail(struct result *r, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
static void fail(struct result *r, const char *fmt, ...)
{
	va_list ap;

	if (!r->ok)
		return;		/* keep the first reason */
	r->ok = false;
	va_start(ap, fmt);
	vsnprintf(r->why, sizeof(r->why), fmt, ap);
	va_end(ap);
	for (char *p = r->why; *p; p++)
		if (*p == '"' || *p == '\\' || (unsigned char)*p < ' ')
			*p = '\'';
}

static void emit(struct result *r)
{
	if (jf) {
		fprintf(jf, "%s\n  {\"case\": %d, \"variant\": \"%s\", \"backend\": \"%s\", \"round\": %d, \"ok\": %s",
			jfirst ? "" : ",", r->cas, r->variant, bname[r->b],
			r->round, r->ok ? "true" : "false");
		if (!r->ok)
			fprintf(jf, ", \"error\": \"%s\"", r->why);
		for (int i = 0; i < r->nkv; i++) {
			if (isfinite(r->v[i]))
				fprintf(jf, ", \"%s\": %.6g", r->k[i], r->v[i]);
			else
				fprintf(jf, ", \"%s\": null", r->k[i]);
		}
		fputc('}', jf);
		fflush(jf);
		jfirst = false;
	}
	fprintf(progress(), "%sbench: case %d%s%s %-5s round %d:", opt.tap ? "# " : "", r->cas,
		r->variant[0] ? " " : "", r->variant, bname[r->b], r->round);
	for (int i = 0; i < r->nkv && i < 8; i++)
		fprintf(progress(), " %s=%.4g", r->k[i], r->v[i]);
	fprintf(progress(), "%s%s\n", r->ok ? "" : " FAILED: ", r->ok ? "" : r->why);
	fflush(progress());
	if (opt.tap) {
		tapn++;
		if (!r->ok)
			tapfail++;
		char what[160];

		if (!r->ok)
			snprintf(what, sizeof(what), "%s", r->why);
		else if (r->cas <= 3)
			snprintf(what, sizeof(what), "%.0f pairs, %.0f/s, mutual exclusion held",
				 kv_get(r, "pairs"), kv_get(r, "ops_per_s"));
		else
			snprintf(what, sizeof(what), "ran to the end with figures");
		printf("%sok %d - bench case %d%s%s %s: %s\n", r->ok ? "" : "not ",
		       tapn, r->cas, r->variant[0] ? " " : "", r->variant,
		       bname[r->b], what);
		fflush(stdout);
	}
}

/* ---- clients ---------------------------------------------------------- */

struct client {
	enum backend b;
	int id;
	struct dlock *d;
	int fd[MAX_LOCKS];
	uint64_t token[MAX_LOCKS];	/* dlock: fencing token of the grant */
	char val[MAX_LOCKS][48];	/* redis: this holder's random value */
	uint64_t seq;
#ifdef HAVE_HIREDIS
	redisContext *rc;
#endif
	char err[128];
};

/* Names of the benchmark's locks, made once: no formatting in timed paths. */
static char lock_names[MAX_LOCKS][96];

static const char *lock_name(int idx)
{
	return lock_names[idx];
}

#ifdef HAVE_HIREDIS
/* The standard compare-and-delete: release only what we hold. */
static const char unlock_lua[] =
	"if redis.call('get', KEYS[1]) == ARGV[1] then "
	"return redis.call('del', KEYS[1]) else return 0 end";

static redisContext *redis_connect(char *err, size_t errlen)
{
	struct timeval tv = { 5, 0 };
	redisContext *rc = redisConnectWithTimeout("127.0.0.1", opt.redis_port, tv);

	if (!rc || rc->err) {
		snprintf(err, errlen, "redis connect: %s",
			 rc ? rc->errstr : "no memory");
		if (rc)
			redisFree(rc);
		return NULL;
	}
	return rc;
}
#endif

static int client_open(struct client *c, enum backend b, int id)
{
	memset(c, 0, sizeof(*c));
	c->b = b;
	c->id = id;
	for (int i = 0; i < MAX_LOCKS; i++)
		c->fd[i] = -1;
	switch (b) {
	case B_DLOCK: {
		int err = dlock_open(&c->d);

		if (err) {
			snprintf(c->err, sizeof(c->err), "dlock_open: %s",
				 dlock_strerror(NULL, err));
			return -1;
		}
		return 0;
	}
	case B_FLOCK:
	case B_OFD:
		return 0;	/* files are opened on first use */
	case B_REDIS:
#ifdef HAVE_HIREDIS
		c->rc = redis_connect(c->err, sizeof(c->err));
		return c->rc ? 0 : -1;
#else
		snprintf(c->err, sizeof(c->err), "built without hiredis");
		return -1;
#endif
	default:
		return -1;
	}
}

static void client_close(struct client *c)
{
	dlock_close(c->d);
	c->d = NULL;
	for (int i = 0; i < MAX_LOCKS; i++)
		if (c->fd[i] >= 0)
			close(c->fd[i]);
#ifdef HAVE_HIREDIS
	if (c->rc)
		redisFree(c->rc);
	c->rc = NULL;
#endif
}

static int lock_fd(struct client *c, int idx)
{
	char path[256];

	if (c->fd[idx] >= 0)
		return c->fd[idx];
	snprintf(path, sizeof(path), "%s/lock%d", lockdir, idx);
	c->fd[idx] = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	if (c->fd[idx] < 0)
		snprintf(c->err, sizeof(c->err), "open %s: %m", path);
	return c->fd[idx];
}

/*
 * Blocking acquire of lock @idx with lease TTL @ttl_ms (dlock: 0 means a
 * socket-bound lease without TTL; flock/OFD have no TTL).  0 or -1.
 */
static int client_lock(struct client *c, int idx, uint32_t ttl_ms)
{
	switch (c->b) {
	case B_DLOCK: {
		struct dlock_acquire_opts o = { .ttl_ms = ttl_ms };
		struct dlock_lease l;
		int err;

		if (!ttl_ms)
			o.flags = DLOCK_F_NO_TTL;
		err = dlock_acquire(c->d, lock_name(idx), &o, &l);
		if (err) {
			snprintf(c->err, sizeof(c->err), "dlock_acquire: %s",
				 dlock_strerror(c->d, err));
			return -1;
		}
		c->token[idx] = l.token;
		return 0;
	}
	case B_FLOCK: {
		int fd = lock_fd(c, idx);

		if (fd < 0)
			return -1;
		while (flock(fd, LOCK_EX))
			if (errno != EINTR) {
				snprintf(c->err, sizeof(c->err), "flock: %m");
				return -1;
			}
		return 0;
	}
	case B_OFD: {
		struct flock fl = { .l_type = F_WRLCK, .l_whence = SEEK_SET };
		int fd = lock_fd(c, idx);

		if (fd < 0)
			return -1;
		while (fcntl(fd, F_OFD_SETLKW, &fl))
			if (errno != EINTR) {
				snprintf(c->err, sizeof(c->err), "F_OFD_SETLKW: %m");
				return -1;
			}
		return 0;
	}
	case B_REDIS:
#ifdef HAVE_HIREDIS
	{
		const char *name = lock_name(idx);

		snprintf(c->val[idx], sizeof(c->val[idx]), "%d.%d.%llu",
			 getpid(), c->id, (unsigned long long)++c->seq);
		for (;;) {
			redisReply *r = redisCommand(c->rc, "SET %s %s NX PX %u",
						     name, c->val[idx],
						     ttl_ms ? ttl_ms : opt.ttl_ms);
			bool got;

			if (!r) {
				snprintf(c->err, sizeof(c->err), "redis SET: %s",
					 c->rc->errstr);
				return -1;
			}
			got = r->type == REDIS_REPLY_STATUS;
			if (r->type == REDIS_REPLY_ERROR) {
				snprintf(c->err, sizeof(c->err), "redis SET: %s", r->str);
				freeReplyObject(r);
				return -1;
			}
			freeReplyObject(r);
			if (got)
				return 0;
			/* Held: retry later, as the recipe says. */
			sleep_us(opt.redis_poll_us / 2 + rand() % (opt.redis_poll_us + 1));
		}
	}
#endif
	default:
		return -1;
	}
}

static int client_unlock(struct client *c, int idx)
{
	switch (c->b) {
	case B_DLOCK: {
		int err = dlock_release(c->d, lock_name(idx), NULL);

		if (err < 0) {
			snprintf(c->err, sizeof(c->err), "dlock_release: %s",
				 dlock_strerror(c->d, err));
			return -1;
		}
		return 0;
	}
	case B_FLOCK:
		if (flock(c->fd[idx], LOCK_UN)) {
			snprintf(c->err, sizeof(c->err), "flock LOCK_UN: %m");
			return -1;
		}
		return 0;
	case B_OFD: {
		struct flock fl = { .l_type = F_UNLCK, .l_whence = SEEK_SET };

		if (fcntl(c->fd[idx], F_OFD_SETLK, &fl)) {
			snprintf(c->err, sizeof(c->err), "F_OFD_SETLK unlock: %m");
			return -1;
		}
		return 0;
	}
	case B_REDIS:
#ifdef HAVE_HIREDIS
	{
		redisReply *r = redisCommand(c->rc, "EVAL %s 1 %s %s", unlock_lua,
					     lock_name(idx), c->val[idx]);
		int ret = 0;

		if (!r) {
			snprintf(c->err, sizeof(c->err), "redis EVAL: %s", c->rc->errstr);
			return -1;
		}
		if (r->type != REDIS_REPLY_INTEGER || r->integer != 1) {
			snprintf(c->err, sizeof(c->err), "redis unlock: not held (%s)",
				 r->type == REDIS_REPLY_ERROR ? r->str : "0");
			ret = -1;
		}
		freeReplyObject(r);
		return ret;
	}
#endif
	default:
		return -1;
	}
}

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

static void case_loop(int cas, enum backend b, int round)
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

static void case_crash(enum backend b, int round, uint32_t hold_ttl,
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

static void case_expiry(enum backend b, int round)
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
	for (int i = 0; i < opt.expiry_samples; i++) {
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
		else
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

/* ---- case 6: scale ---------------------------------------------------- */

/* Slab memory in use (whole slabs, and the objects in them) and vmalloc. */
struct kmem {
	double slab_pages, slab_objs, vmalloc, memfree;
	bool ok;
};

static struct kmem read_kmem(void)
{
	struct kmem m = { 0 };
	char line[512];
	FILE *f = fopen("/proc/slabinfo", "r");
	long page = sysconf(_SC_PAGESIZE);

	if (f) {
		m.ok = true;
		while (fgets(line, sizeof(line), f)) {
			char name[64];
			unsigned long act, num, osz, per, pps, aslabs, nslabs;

			if (sscanf(line, "%63s %lu %lu %lu %lu %lu : tunables %*u %*u %*u : slabdata %lu %lu",
				   name, &act, &num, &osz, &per, &pps, &aslabs, &nslabs) != 8)
				continue;
			m.slab_pages += (double)nslabs * pps * page;
			m.slab_objs += (double)act * osz;
		}
		fclose(f);
	}
	f = fopen("/proc/meminfo", "r");
	if (f) {
		while (fgets(line, sizeof(line), f)) {
			unsigned long kb;

			if (sscanf(line, "VmallocUsed: %lu kB", &kb) == 1)
				m.vmalloc = kb * 1024.0;
			if (sscanf(line, "MemFree: %lu kB", &kb) == 1)
				m.memfree = kb * 1024.0;
		}
		fclose(f);
	}
	return m;
}

struct list_count {
	long n;
};

static int count_cb(const struct dlock_lock_info *info, void *arg)
{
	(void)info;
	((struct list_count *)arg)->n++;
	return 0;
}

static void scale_name(char *buf, size_t len, long i)
{
	snprintf(buf, len, "%s-s%07ld", prefix, i);
}

static void case_scale_dlock(int round)
{
	struct result r = { .cas = 6, .b = B_DLOCK, .round = round, .ok = true };
	const long per_handle = 250000;
	long nh = (opt.scale + per_handle - 1) / per_handle, done = 0;
	struct dlock **h = calloc(nh, sizeof(*h));
	struct dlock_status s0, s1, s2;
	struct list_count lcnt = { 0 };
	struct kmem m0, m1, m2;
	char name[96], pfx[80];
	uint64_t t0, t1, t2, t3;
	int err;

	for (long i = 0; i < nh; i++)
		if ((err = dlock_open(&h[i]))) {
			fail(&r, "dlock_open: %s", dlock_strerror(NULL, err));
			goto out;
		}
	dlock_get_status(h[0], &s0);
	m0 = read_kmem();
	t0 = now_ns();
	for (long i = 0; i < opt.scale; i++) {
		struct dlock_acquire_opts o = { .flags = DLOCK_F_NO_TTL };
		struct dlock_lease l;
		struct dlock *d = h[i / per_handle];

		scale_name(name, sizeof(name), i);
		err = dlock_acquire(d, name, &o, &l);
		if (err) {
			fail(&r, "acquire %ld: %s", i, dlock_strerror(d, err));
			break;
		}
		done++;
	}
	t1 = now_ns();
	m1 = read_kmem();
	dlock_get_status(h[0], &s1);
	snprintf(pfx, sizeof(pfx), "%s-s", prefix);
	err = dlock_list(h[0], pfx, count_cb, &lcnt);
	t2 = now_ns();
	if (err < 0)
		fail(&r, "dump: %s", dlock_strerror(h[0], err));
	else if (lcnt.n != done)
		fail(&r, "dump returned %ld locks of %ld", lcnt.n, done);
	for (long i = 0; i < nh; i++) {
		dlock_close(h[i]);
		h[i] = NULL;
	}
	t3 = now_ns();
	m2 = read_kmem();
	{
		struct dlock *d;

		if (!dlock_open(&d)) {
			dlock_get_status(d, &s2);
			dlock_close(d);
			kv(&r, "leases_after_close", (double)s2.leases);
		}
	}
	{
		double leases = (double)s1.leases - (double)s0.leases;

		kv(&r, "leases", leases);
		kv(&r, "insert_s", (t1 - t0) / 1e9);
		kv(&r, "insert_per_s", done / ((t1 - t0) / 1e9));
		kv(&r, "dump_s", (t2 - t1) / 1e9);
		kv(&r, "dumped", lcnt.n);
		kv(&r, "close_s", (t3 - t2) / 1e9);
		if (m0.ok && leases > 0) {
			kv(&r, "slab_bytes_per_lease", (m1.slab_pages - m0.slab_pages) / leases);
			kv(&r, "slab_obj_bytes_per_lease", (m1.slab_objs - m0.slab_objs) / leases);
			kv(&r, "vmalloc_bytes_per_lease", (m1.vmalloc - m0.vmalloc) / leases);
			kv(&r, "bytes_per_lease", (m1.slab_pages - m0.slab_pages +
						   m1.vmalloc - m0.vmalloc) / leases);
			/*
			 * Everything the machine lost, kmalloc_large()
			 * arrays (not in slabinfo) included: an upper bound.
			 */
			kv(&r, "memfree_bytes_per_lease", (m0.memfree - m1.memfree) / leases);
			kv(&r, "returned_bytes_per_lease", (m1.slab_objs - m2.slab_objs +
						   m1.vmalloc - m2.vmalloc) / leases);
		}
		if (leases != done)
			fail(&r, "status counts %.0f new leases, %ld taken", leases, done);
	}
out:
	for (long i = 0; i < nh; i++)
		dlock_close(h[i]);
	free(h);
	emit(&r);
}

#ifdef HAVE_HIREDIS
static double redis_used_memory(redisContext *rc)
{
	redisReply *r = redisCommand(rc, "INFO memory");
	double v = NAN;
	const char *p;

	if (r && r->type == REDIS_REPLY_STRING &&
	    (p = strstr(r->str, "used_memory:")))
		v = strtod(p + strlen("used_memory:"), NULL);
	if (r)
		freeReplyObject(r);
	return v;
}

static void case_scale_redis(int round)
{
	struct result r = { .cas = 6, .b = B_REDIS, .round = round, .ok = true };
	char err[128], name[96], val[48], pfx[96];
	redisContext *rc = redis_connect(err, sizeof(err));
	redisReply *rep;
	double mem0, mem1;
	uint64_t t0, t1, t2, t3;
	long done = 0, dumped = 0;
	unsigned long long cursor = 0;

	if (!rc) {
		fail(&r, "%s", err);
		emit(&r);
		return;
	}
	mem0 = redis_used_memory(rc);
	t0 = now_ns();
	/*
	 * Pipelined, 1000 SETs a batch: how Redis is bulk-loaded.  (libdlock
	 * has no pipelining; its leases are taken one round trip each.)
	 */
	for (long i = 0; i < opt.scale && r.ok; i += 1000) {
		long n = opt.scale - i < 1000 ? opt.scale - i : 1000;

		for (long j = i; j < i + n; j++) {
			scale_name(name, sizeof(name), j);
			snprintf(val, sizeof(val), "%d.0.%ld", getpid(), j);
			redisAppendCommand(rc, "SET %s %s NX PX %u", name, val, 3600000u);
		}
		for (long j = 0; j < n; j++) {
			rep = NULL;
			if (redisGetReply(rc, (void **)&rep) != REDIS_OK ||
			    rep->type != REDIS_REPLY_STATUS) {
				fail(&r, "SET %ld: %s", i + j, rep ? (rep->str ? rep->str : "nil") : rc->errstr);
				if (rep)
					freeReplyObject(rep);
				if (!rep)
					break;
				continue;
			}
			freeReplyObject(rep);
			done++;
		}
	}
	t1 = now_ns();
	mem1 = redis_used_memory(rc);
	snprintf(pfx, sizeof(pfx), "%s-s*", prefix);
	do {
		char cur[32];

		snprintf(cur, sizeof(cur), "%llu", cursor);
		rep = redisCommand(rc, "SCAN %s MATCH %s COUNT 1000", cur, pfx);
		if (!rep || rep->type != REDIS_REPLY_ARRAY || rep->elements != 2) {
			fail(&r, "SCAN failed");
			if (rep)
				freeReplyObject(rep);
			break;
		}
		cursor = strtoull(rep->element[0]->str, NULL, 10);
		dumped += rep->element[1]->elements;
		freeReplyObject(rep);
	} while (cursor);
	t2 = now_ns();
	rep = redisCommand(rc, "FLUSHALL");
	if (rep)
		freeReplyObject(rep);
	t3 = now_ns();
	kv(&r, "leases", done);
	kv(&r, "insert_s", (t1 - t0) / 1e9);
	kv(&r, "insert_per_s", done / ((t1 - t0) / 1e9));
	kv(&r, "dump_s", (t2 - t1) / 1e9);
	kv(&r, "dumped", dumped);
	kv(&r, "close_s", (t3 - t2) / 1e9);
	kv(&r, "bytes_per_lease", done ? (mem1 - mem0) / done : NAN);
	if (r.ok && dumped != done)
		fail(&r, "SCAN returned %ld keys of %ld", dumped, done);
	redisFree(rc);
	emit(&r);
}
#endif

/* ---- calibration: what a clock read and a 1 ms sleep cost here ------- */

static double clock_cost_ns, sleep_late_p50_us, sleep_late_p99_us;

static void calibrate(void)
{
	uint64_t t0 = now_ns(), late[200];
	const int n = 2000, ns = opt.smoke ? 20 : 200;

	for (int i = 0; i < n; i++)
		(void)now_ns();
	clock_cost_ns = (double)(now_ns() - t0) / n;
	for (int i = 0; i < ns; i++) {
		uint64_t a = now_ns();

		sleep_us(1000);
		late[i] = now_ns() - a - 1000000;
	}
	qsort(late, ns, sizeof(late[0]), cmp_u64);
	sleep_late_p50_us = pct_us(late, ns, 50);
	sleep_late_p99_us = pct_us(late, ns, 99);
	fprintf(progress(), "%sbench: a clock read costs %.0f ns; a 1 ms sleep oversleeps %.0f us (p50), %.0f us (p99)\n",
		opt.tap ? "# " : "", clock_cost_ns, sleep_late_p50_us, sleep_late_p99_us);
}

/* ---- main ------------------------------------------------------------- */

static void usage(void)
{
	fprintf(stderr,
		"usage: dlock-bench [--smoke] [--tap] [--rounds N] [--backends dlock,flock,ofd,redis]\n"
		"                   [--cases 1,2,3,4,5,6] [--redis-port P] [--json FILE]\n"
		"                   [--env NAME] [--scale N] [--no-redis-30s]\n");
	exit(2);
}

static void parse_list(const char *s, bool *set, int n, const char *const *names)
{
	char *dup = strdup(s), *save = NULL;

	memset(set, 0, n * sizeof(bool));
	for (char *t = strtok_r(dup, ",", &save); t; t = strtok_r(NULL, ",", &save)) {
		int i;

		for (i = 0; i < n; i++)
			if (names ? !strcmp(t, names[i]) : atoi(t) == i)
				break;
		if (i == n || (!names && i == 0)) {
			fprintf(stderr, "dlock-bench: unknown item '%s'\n", t);
			usage();
		}
		set[i] = true;
	}
	free(dup);
}

static bool have_redis(void)
{
#ifdef HAVE_HIREDIS
	char err[128];
	redisContext *rc = redis_connect(err, sizeof(err));
	redisReply *r;
	bool ok;

	if (!rc) {
		fprintf(stderr, "bench: %s\n", err);
		return false;
	}
	r = redisCommand(rc, "PING");
	ok = r && r->type == REDIS_REPLY_STATUS;
	if (r)
		freeReplyObject(r);
	redisFree(rc);
	return ok;
#else
	return false;
#endif
}

int main(int argc, char **argv)
{
	struct utsname u;
	char started[64];
	time_t now = time(NULL);

	for (int i = 0; i < NR_BACKENDS; i++)
		opt.use[i] = true;
	for (int i = 1; i <= 6; i++)
		opt.cases[i] = true;
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;

		if (!strcmp(a, "--smoke")) {
			opt.smoke = true;
			opt.rounds = 1;
			opt.scale = 2000;
			opt.dur = 20.0;		/* a safety net: pairs end it */
			opt.max_pairs = 30;	/* per client; case 1: 300 */
			opt.crash_samples = 1;
			opt.crash_redis_samples = 1;
			opt.expiry_samples = 20;
			opt.redis_30s = false;
		} else if (!strcmp(a, "--tap")) {
			opt.tap = true;
		} else if (!strcmp(a, "--no-redis-30s")) {
			opt.redis_30s = false;
		} else if (!v) {
			usage();
		} else if (!strcmp(a, "--rounds")) {
			opt.rounds = atoi(v), i++;
		} else if (!strcmp(a, "--backends")) {
			parse_list(v, opt.use, NR_BACKENDS, bname), i++;
		} else if (!strcmp(a, "--cases")) {
			parse_list(v, opt.cases, 7, NULL), i++;
		} else if (!strcmp(a, "--redis-port")) {
			opt.redis_port = atoi(v), i++;
		} else if (!strcmp(a, "--json")) {
			opt.json = v, i++;
		} else if (!strcmp(a, "--env")) {
			opt.env = v, i++;
		} else if (!strcmp(a, "--scale")) {
			opt.scale = atol(v), i++;
		} else if (!strcmp(a, "--expiry-ttl")) {
			opt.expiry_ttl = atoi(v), i++;
		} else if (!strcmp(a, "--duration")) {
			opt.dur = atof(v), i++;
		} else {
			usage();
		}
	}
	signal(SIGPIPE, SIG_IGN);
	srand(getpid());
	snprintf(prefix, sizeof(prefix), "bench-%d", getpid());
	snprintf(lockdir, sizeof(lockdir), "/dev/shm/dlock-bench.%d", getpid());
	for (int i = 0; i < MAX_LOCKS; i++)
		snprintf(lock_names[i], sizeof(lock_names[i]), "%s-l%d", prefix, i);
	if (mkdir(lockdir, 0700)) {
		perror(lockdir);
		return 1;
	}
	if (opt.use[B_DLOCK]) {
		struct dlock *d;
		int err = dlock_open(&d);

		if (err) {
			fprintf(stderr, "bench: dlock: %s\n", dlock_strerror(NULL, err));
			if (opt.tap)
				printf("not ok %d - bench: dlock module answers\n", ++tapn), tapfail++;
			opt.use[B_DLOCK] = false;
		} else {
			dlock_close(d);
		}
	}
	if (opt.use[B_REDIS] && !have_redis()) {
		fprintf(stderr, "bench: no Redis on port %d: Redis left out\n", opt.redis_port);
		if (opt.tap)
			printf("ok %d - bench: redis # SKIP no redis-server on port %d\n",
			       ++tapn, opt.redis_port);
		opt.use[B_REDIS] = false;
	}
	calibrate();
	uname(&u);
	strftime(started, sizeof(started), "%Y-%m-%dT%H:%M:%SZ", gmtime(&now));
	if (opt.json) {
		jf = fopen(opt.json, "w");
		if (!jf) {
			perror(opt.json);
			return 1;
		}
		fprintf(jf, "{\"env\": \"%s\", \"smoke\": %s, \"started\": \"%s\", \"kernel\": \"%s\", "
			"\"machine\": \"%s\", \"cpus\": %ld, \"rounds\": %d, \"duration_s\": %g, "
			"\"scale\": %ld, \"ttl_ms\": %u, \"redis_poll_us\": %d, \"clock_read_ns\": %.0f, "
			"\"sleep1ms_late_p50_us\": %.0f, \"sleep1ms_late_p99_us\": %.0f, \"results\": [",
			opt.env, opt.smoke ? "true" : "false", started, u.release, u.machine,
			sysconf(_SC_NPROCESSORS_ONLN), opt.rounds, opt.dur, opt.scale,
			opt.ttl_ms, opt.redis_poll_us, clock_cost_ns, sleep_late_p50_us,
			sleep_late_p99_us);
	}

	/* Case by case; within a round every backend runs once, in turn. */
	for (int cas = 1; cas <= 3; cas++) {
		if (!opt.cases[cas])
			continue;
		for (int round = 0; round < opt.rounds; round++)
			for (int b = 0; b < NR_BACKENDS; b++)
				if (opt.use[b])
					case_loop(cas, b, round);
	}
	if (opt.cases[4]) {
		for (int round = 0; round < opt.rounds; round++)
			for (int b = 0; b < NR_BACKENDS; b++) {
				if (!opt.use[b])
					continue;
				if (b == B_REDIS)
					case_crash(b, round, 1000, "ttl1s", opt.crash_redis_samples);
				else
					case_crash(b, round, 0, "", opt.crash_samples);
			}
		/* Redisson's watchdog default: once, it takes 30 s a sample. */
		if (opt.use[B_REDIS] && opt.redis_30s)
			case_crash(B_REDIS, 0, 30000, "ttl30s", 1);
	}
	if (opt.cases[5])
		for (int round = 0; round < opt.rounds; round++)
			for (int b = 0; b < NR_BACKENDS; b++)
				if (opt.use[b] && (b == B_DLOCK || b == B_REDIS))
					case_expiry(b, round);
	if (opt.cases[6]) {
		if (opt.use[B_DLOCK])
			case_scale_dlock(0);
#ifdef HAVE_HIREDIS
		if (opt.use[B_REDIS])
			case_scale_redis(0);
#endif
	}
	if (jf) {
		fprintf(jf, "\n]}\n");
		fclose(jf);
	}
	{
		char path[256];

		for (int i = 0; i < MAX_LOCKS; i++) {
			snprintf(path, sizeof(path), "%s/lock%d", lockdir, i);
			unlink(path);
		}
		rmdir(lockdir);
	}
	if (opt.tap)
		printf("1..%d\n", tapn);
	return tapfail ? 1 : 0;
}
