/* SPDX-License-Identifier: GPL-2.0 */
/*
 * dlock-bench's shared parts: options, clock and statistics, result rows,
 * and the clients of every backend.  Each case lives in a file of its own
 * (bench_loop.c: cases 1-3, bench_crash.c: 4-5, bench_scale.c: 6,
 * bench_floor.c: 7, bench_cluster.c: 8, with bench_etcd.c its etcd client
 * and bench_rtt.c its floor;
 * bench_pairs.c the timed loop of cases 1-3 and 8); bench.c has main().
 */
#ifndef DLOCK_BENCH_H
#define DLOCK_BENCH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "dlock.h"
#ifdef HAVE_HIREDIS
#include <hiredis/hiredis.h>
#endif

#define MAX_CLIENTS 16
#define MAX_LOCKS 16
#define NR_CASES 9		/* cases 1..8; index 0 unused */

/* etcd: case 8 only, when asked for (--backends etcd --etcd ADDR:PORT). */
enum backend { B_DLOCK, B_FLOCK, B_OFD, B_REDIS, B_ETCD, NR_BACKENDS };
extern const char *const bname[NR_BACKENDS];

struct bench_opt {
	bool smoke, tap, redis_30s;
	int rounds;
	bool use[NR_BACKENDS];
	bool cases[NR_CASES];
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
	long floor_batch;	/* case 7: operations per timed batch */
	int floor_batches;	/* case 7: batches per kind and round */
	const char *floor_only;	/* case 7: time this kind alone (profiling) */
	const char *cluster;	/* case 8: the run's label, e.g. unkeyed-follower */
	const char *etcd_addr;	/* case 8, etcd: the node's client address */
	const char *udp_peer;	/* case 8: the leader's udp echo, ADDR:PORT */
};
extern struct bench_opt opt;

extern char prefix[64];		/* lock names: bench-<pid>-... */
extern char lockdir[128];	/* flock/OFD files, on tmpfs */

/* ---- time and statistics --------------------------------------------- */

uint64_t now_ns(void);
void sleep_us(long us);
int cmp_u64(const void *a, const void *b);
double pct_us(const uint64_t *v, size_t n, double p);

/* ---- results: raw rows of the JSON file ------------------------------ */

#define MAX_KV 24
struct result {
	int cas;
	char variant[40];
	enum backend b;
	int round;
	int nkv;
	const char *k[MAX_KV];
	double v[MAX_KV];
	bool ok;
	char why[160];
};

FILE *progress(void);
void kv(struct result *r, const char *k, double v);
double kv_get(const struct result *r, const char *k);
void fail(struct result *r, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
void emit(struct result *r);

/* ---- clients (bench_client.c) ---------------------------------------- */

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
	int sock;			/* etcd: the HTTP connection */
	char lease[24];			/* etcd: this client's lease ID */
	char key[MAX_LOCKS][160];	/* etcd: the key each lock call returned */
	char http[2048];		/* etcd: the response being read */
	size_t http_len;
	char *body;
	char err[128];
};

void lock_names_init(void);
const char *lock_name(int idx);
#ifdef HAVE_HIREDIS
redisContext *redis_connect(char *err, size_t errlen);
#endif
int client_open(struct client *c, enum backend b, int id);
void client_close(struct client *c);
int client_lock(struct client *c, int idx, uint32_t ttl_ms);
int client_unlock(struct client *c, int idx);
int etcd_open(struct client *c);
void etcd_close(struct client *c);
int etcd_lock(struct client *c, int idx);
int etcd_unlock(struct client *c, int idx);

/* ---- clients looping acquire+release (bench_pairs.c) ----------------- */

/* One client's acquire or release of lock idx: 0, or -1 with c->err set. */
typedef int pair_op(struct client *c, int idx, long *retries);

struct pairs {
	/* what the case asks for */
	enum backend b;
	int clients;
	bool one_lock;		/* every client on lock 0 */
	bool time_acquire;	/* the acquire alone too: 2 more clock reads */
	long max_pairs;		/* per client; 0: opt.dur alone ends the run */
	size_t cap;		/* latency samples per client */
	long poll_us;		/* how often the end of the run is looked for */
	pair_op *lock, *unlock;
	/* what the run measured */
	double secs;
	long pairs, min_pairs, most_pairs;	/* all, and per client */
	long violations, token_errors, retries;
	uint64_t *acq, *pair;	/* every client's samples, sorted */
	size_t nlat;
};

void pairs_run(struct pairs *p, struct result *r);
void pairs_check(const struct pairs *p, struct result *r);
void pairs_free(struct pairs *p);

/* ---- the cases ------------------------------------------------------- */

void case_loop(int cas, enum backend b, int round);
void case_crash(enum backend b, int round, uint32_t hold_ttl,
		const char *variant, int samples);
void case_expiry(enum backend b, int round);
void case_scale_dlock(int round);
#ifdef HAVE_HIREDIS
void case_scale_redis(int round);
#endif
void case_floor(int round);
void case_cluster(enum backend b, int round);

/* Case 8's floor: round trips to the node and to the leader (bench_rtt.c). */
struct nl_bare;
struct nl_bare *nl_bare_open(char *err, size_t len);
int nl_bare_rt(struct nl_bare *b, char *err, size_t len);
void nl_bare_close(struct nl_bare *b);
int udp_echo(const char *port);
void rtt_floor(struct result *r, const char *peer, long n);

#endif /* DLOCK_BENCH_H */
