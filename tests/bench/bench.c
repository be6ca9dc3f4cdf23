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
 *               [--no-redis-30s] [--cases LIST] [--floor-batch N]
 *               [--floor-batches N] [--floor-only bare|refused|status|raw_pair|pair]
 *   dlock-bench --cluster LABEL [--backends dlock|etcd] [--etcd ADDR:PORT]
 *               [--udp-peer ADDR:PORT] ...
 *               (case 8 alone, in a cluster node's namespace: cluster-bench)
 *   dlock-bench --link-down IFNAME   (case 9's cut: see link_down())
 *   dlock-bench --udp-echo PORT      (case 8's floor: echoes datagrams)
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
#include <net/if.h>
#include <sys/file.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "bench.h"

const char *const bname[NR_BACKENDS] = { "dlock", "flock", "ofd", "redis", "etcd" };

/* ---- options ---------------------------------------------------------- */

struct bench_opt opt = {
	.redis_30s = true, .rounds = 5, .redis_port = 6379, .env = "guest",
	.scale = 1000000, .dur = 2.0, .crash_samples = 5,
	.crash_redis_samples = 2, .expiry_samples = 100, .ttl_ms = 30000, .expiry_ttl = 10,
	.redis_poll_us = 1000, .floor_batch = 50, .floor_batches = 40,
};

char prefix[64];
char lockdir[128];

/* ---- time and statistics --------------------------------------------- */

uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + ts.tv_nsec;
}

void sleep_us(long us)
{
	struct timespec ts = { us / 1000000, (us % 1000000) * 1000 };

	while (nanosleep(&ts, &ts) && errno == EINTR)
		;
}

int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

/* Percentile @p (0..100) of sorted @v, in microseconds. */
double pct_us(const uint64_t *v, size_t n, double p)
{
	size_t i;

	if (!n)
		return NAN;
	i = (size_t)(p / 100.0 * (double)(n - 1) + 0.5);
	return (double)v[i] / 1000.0;
}

/* ---- results: raw rows of the JSON file ------------------------------ */

static FILE *jf;

/* Progress: stderr, or TAP comments on stdout (one stream keeps lines whole). */
FILE *progress(void)
{
	return opt.tap ? stdout : stderr;
}

static bool jfirst = true;
static int tapn, tapfail;

void kv(struct result *r, const char *k, double v)
{
	if (r->nkv < MAX_KV) {
		r->k[r->nkv] = k;
		r->v[r->nkv++] = v;
	}
}

double kv_get(const struct result *r, const char *k)
{
	for (int i = 0; i < r->nkv; i++)
		if (!strcmp(r->k[i], k))
			return r->v[i];
	return NAN;
}

void fail(struct result *r, const char *fmt, ...)
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

void emit(struct result *r)
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
		else if (r->cas <= 3 || r->cas == 8)
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

/*
 * Case 9 (cluster-bench's failover) cuts the leader off by setting its
 * bridge port down: one ioctl between two clock reads, printed as
 * "T0 T1" (CLOCK_MONOTONIC ns, the histories' clock).  In a loaded guest
 * starting a process takes up to seconds, so the stamps must not be taken
 * by other processes around `ip link set down`.
 */
static int link_down(const char *ifname)
{
	struct ifreq ifr = { 0 };
	int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	uint64_t t0, t1;

	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", ifname);
	if (fd < 0 || ioctl(fd, SIOCGIFFLAGS, &ifr)) {
		fprintf(stderr, "dlock-bench: %s: %m\n", ifname);
		return 1;
	}
	ifr.ifr_flags &= ~IFF_UP;
	t0 = now_ns();
	if (ioctl(fd, SIOCSIFFLAGS, &ifr)) {
		fprintf(stderr, "dlock-bench: %s down: %m\n", ifname);
		return 1;
	}
	t1 = now_ns();
	printf("%llu %llu\n", (unsigned long long)t0, (unsigned long long)t1);
	close(fd);
	return 0;
}

static void usage(void)
{
	fprintf(stderr,
		"usage: dlock-bench [--smoke] [--tap] [--rounds N] [--backends dlock,flock,ofd,redis]\n"
		"                   [--cases 1,2,3,4,5,6,7] [--redis-port P] [--json FILE]\n"
		"                   [--env NAME] [--scale N] [--no-redis-30s]\n"
		"                   [--floor-batch N] [--floor-batches N]\n"
		"                   [--floor-only bare|refused|status|raw_pair|pair]\n"
		"       dlock-bench --cluster LABEL [--backends dlock|etcd] [--etcd ADDR:PORT]\n"
		"                   [--udp-peer ADDR:PORT] [--rounds N] [--duration S]\n"
		"                   [--json FILE] [--smoke] [--tap]\n"
		"       dlock-bench --link-down IFNAME\n"
		"       dlock-bench --udp-echo PORT\n");
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

	if (argc == 3 && !strcmp(argv[1], "--link-down"))
		return link_down(argv[2]);
	if (argc == 3 && !strcmp(argv[1], "--udp-echo"))
		return udp_echo(argv[2]);
	for (int i = 0; i < NR_BACKENDS; i++)
		opt.use[i] = i != B_ETCD;
	for (int i = 1; i < NR_CASES; i++)
		opt.cases[i] = i != 8;
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
			opt.floor_batch = 20;
			opt.floor_batches = 3;
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
			parse_list(v, opt.cases, NR_CASES, NULL), i++;
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
		} else if (!strcmp(a, "--floor-batch")) {
			opt.floor_batch = atol(v), i++;
		} else if (!strcmp(a, "--floor-batches")) {
			opt.floor_batches = atoi(v), i++;
		} else if (!strcmp(a, "--floor-only")) {
			opt.floor_only = v, i++;
		} else if (!strcmp(a, "--cluster")) {
			opt.cluster = v, i++;
		} else if (!strcmp(a, "--etcd")) {
			opt.etcd_addr = v, i++;
		} else if (!strcmp(a, "--udp-peer")) {
			opt.udp_peer = v, i++;
		} else {
			usage();
		}
	}
	if (opt.cluster) {
		/* Case 8 alone, for dlock unless --backends says etcd. */
		memset(opt.cases, 0, sizeof(opt.cases));
		opt.cases[8] = true;
		for (int i = B_FLOCK; i <= B_REDIS; i++)
			opt.use[i] = false;
	} else if (opt.cases[8]) {
		fprintf(stderr, "dlock-bench: case 8 needs --cluster LABEL\n");
		usage();
	}
	signal(SIGPIPE, SIG_IGN);
	srand(getpid());
	snprintf(prefix, sizeof(prefix), "bench-%d", getpid());
	snprintf(lockdir, sizeof(lockdir), "/dev/shm/dlock-bench.%d", getpid());
	lock_names_init();
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
	if (opt.cases[8])
		for (int round = 0; round < opt.rounds; round++)
			for (int b = 0; b < NR_BACKENDS; b++)
				if (opt.use[b] && (b == B_DLOCK || b == B_ETCD))
					case_cluster(b, round);
	if (opt.cases[7] && opt.use[B_DLOCK])
		for (int round = 0; round < opt.rounds; round++)
			case_floor(round);
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
