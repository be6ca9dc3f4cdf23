// SPDX-License-Identifier: GPL-2.0
/*
 * workload: the history recorder of the cluster tests.  Run in one node's
 * network namespace (ip netns exec), it starts K client threads, each
 * with its own libdlock handle, that take and release locks of every mode
 * (exclusive, shared, semaphore; try, blocking with and without a wait
 * limit; socket-bound with and without TTL or keep-alive, and detached),
 * and writes one line per invocation and per completion, and one per lost
 * lease, to a history file that tests/cluster/checker reads (format in
 * tests/cluster/README.md).
 *
 * usage: workload --node N --proc PREFIX --out FILE [--threads K]
 *                 [--duration SEC] [--stop-file PATH] [--names M] [--seed S]
 *        workload --now     (prints CLOCK_MONOTONIC in ns, for scripts)
 *
 * Lines are written with one write(2) each to an O_APPEND file, so a
 * SIGKILL (the node being killed) loses no line already recorded.
 * Times are CLOCK_MONOTONIC, taken just before a call and just after it.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <poll.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "dlock.h"

static int out_fd = -1;
static int node;
static const char *prefix;
static const char *stop_file;
static int64_t deadline;
static int nnames = 3;
static unsigned int seed;

#define SEM_PERMITS 2

struct client {
	int idx;
	char proc[32];
	struct dlock *d;
	long next_id;
	unsigned int rnd;
	uint64_t seq;
	int opens_failed;
};

static int64_t now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

static void record(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void record(const char *fmt, ...)
{
	char buf[1024];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(buf, sizeof(buf) - 1, fmt, ap);
	va_end(ap);
	if (n < 0 || n >= (int)sizeof(buf) - 1) {
		fprintf(stderr, "workload: history line too long\n");
		exit(2);
	}
	buf[n++] = '\n';
	if (write(out_fd, buf, n) != n) {
		perror("workload: write history");
		exit(2);
	}
}

static const char *errname(int err)
{
	const char *s = strerrordesc_np(err) ? strerrorname_np(err) : NULL;
	static __thread char num[16];

	if (s)
		return s;
	snprintf(num, sizeof(num), "E%d", err);
	return num;
}

/* The kernel's explanation, as one field: blanks and '=' become '_'. */
static const char *why(struct client *c, int err)
{
	static __thread char buf[128];
	char *p;

	snprintf(buf, sizeof(buf), "%s", dlock_strerror(c->d, err));
	for (p = buf; *p; p++)
		if (*p == ' ' || *p == '=' || *p == '\t' || *p == '\n')
			*p = '_';
	return buf;
}

static bool stopping(void)
{
	return now() >= deadline || (stop_file && !access(stop_file, F_OK));
}

static unsigned int rnd(struct client *c, unsigned int n)
{
	return rand_r(&c->rnd) % n;
}

static void on_lost(struct dlock *d, const struct dlock_lost *l, void *arg)
{
	struct client *c = arg;

	(void)d;
	record("%" PRId64 " lost p=%s node=%d name=%s token=%" PRIu64 " tag=%" PRIx64
	       " reason=%s", now(), c->proc, node, l->name, l->token, l->tag,
	       l->reason == DLOCK_LOST_EXPIRED ? "expired" :
	       l->reason == DLOCK_LOST_BROKEN ? "broken" :
	       l->reason == DLOCK_LOST_IN_DOUBT ? "in-doubt" : "other");
}

static int client_open(struct client *c)
{
	int err = dlock_open(&c->d);

	if (err) {
		/* Not an operation on a lock: said on stderr, retried later. */
		if (!c->opens_failed++)
			fprintf(stderr, "workload %s: dlock_open: %s\n", c->proc,
				dlock_strerror(NULL, err));
		c->d = NULL;
		return err;
	}
	dlock_on_lost(c->d, on_lost, c);
	return 0;
}

/*
 * Holds for @ms while dispatching the handle, so that a lost lease is
 * recorded the moment its message arrives, and keep-alives are sent.
 */
static void hold(struct client *c, int ms)
{
	int64_t end = now() + (int64_t)ms * 1000000;

	for (;;) {
		int64_t left = (end - now()) / 1000000;
		struct pollfd pfd = { .fd = dlock_fd(c->d), .events = POLLIN };
		int next = dlock_next_timeout(c->d);
		int t;

		if (left <= 0)
			break;
		t = (int)left;
		if (next >= 0 && next < t)
			t = next;
		if (poll(&pfd, 1, t) < 0 && errno != EINTR)
			break;
		dlock_dispatch(c->d);
	}
	dlock_dispatch(c->d);
}

/* One acquire, hold, release round on a random name in a random way. */
static void round_once(struct client *c)
{
	struct dlock_acquire_opts o = { 0 };
	struct dlock_lease lease;
	struct dlock_owner own = { 0 };
	char name[32], owner[80], flags[64], detached[DLOCK_OWNER_MAX + 1];
	const char *mode;
	int64_t t0, t1;
	long id;
	int err, family = rnd(c, 3), holdms = rnd(c, 30);

	switch (family) {
	case 0:
		snprintf(name, sizeof(name), "x%u", rnd(c, nnames));
		o.mode = DLOCK_MODE_EXCLUSIVE;
		mode = "ex";
		break;
	case 1:
		snprintf(name, sizeof(name), "rw%u", rnd(c, nnames));
		o.mode = rnd(c, 2) ? DLOCK_MODE_SHARED : DLOCK_MODE_EXCLUSIVE;
		mode = o.mode == DLOCK_MODE_SHARED ? "sh" : "ex";
		break;
	default:
		snprintf(name, sizeof(name), "sem%u", rnd(c, nnames));
		o.mode = DLOCK_MODE_SEMAPHORE;
		o.permits = SEM_PERMITS;
		mode = "sem";
		break;
	}
	c->seq++;
	if (rnd(c, 10) < 3) {
		snprintf(detached, sizeof(detached), "%s-%" PRIu64, c->proc, c->seq);
		o.flags |= DLOCK_F_DETACHED;
		o.owner = detached;
		o.ttl_ms = 5000;
		own.str = detached;
		snprintf(owner, sizeof(owner), "det:%s", detached);
	} else {
		o.tag = ((uint64_t)(c->idx + 1) << 32) | c->seq;
		own.tag = o.tag;
		snprintf(owner, sizeof(owner), "tag:%" PRIx64, o.tag);
		switch (rnd(c, 10)) {
		case 0: case 1: case 2: case 3:
			o.flags |= DLOCK_F_NO_TTL;
			break;
		case 4:
			/* A TTL that runs out while held: the holder must be told. */
			o.ttl_ms = 200;
			holdms = 400;
			break;
		case 5:
			o.flags |= DLOCK_F_KEEPALIVE;
			o.ttl_ms = 600;
			holdms = 800;
			break;
		default:
			o.ttl_ms = 5000;
		}
	}
	switch (rnd(c, 8)) {
	case 0: case 1:
		o.flags |= DLOCK_F_TRY;
		snprintf(flags, sizeof(flags), "try");
		break;
	case 2:
		snprintf(flags, sizeof(flags), "block");
		break;
	default:
		o.wait_ms = 100 + rnd(c, 1900);
		snprintf(flags, sizeof(flags), "wait:%u", o.wait_ms);
	}
	if (o.flags & DLOCK_F_KEEPALIVE)
		strcat(flags, ",keepalive");
	if (o.flags & DLOCK_F_NO_TTL)
		strcat(flags, ",nottl");

	id = ++c->next_id;
	t0 = now();
	record("%" PRId64 " inv p=%s node=%d id=%ld op=acquire name=%s mode=%s "
	       "permits=%u owner=%s ttl=%u flags=%s", t0, c->proc, node, id, name,
	       mode, o.permits, owner, o.ttl_ms, flags);
	err = dlock_acquire(c->d, name, &o, &lease);
	t1 = now();
	if (err) {
		record("%" PRId64 " fail p=%s node=%d id=%ld t0=%" PRId64 " err=%s msg=%s",
		       t1, c->proc, node, id, t0, errname(-err), why(c, err));
		return;
	}
	record("%" PRId64 " ok p=%s node=%d id=%ld t0=%" PRId64 " token=%" PRIu64
	       " ttl=%u count=%u", t1, c->proc, node, id, t0, lease.token,
	       lease.ttl_ms, lease.count);
	hold(c, holdms);

	if (!(o.flags & DLOCK_F_DETACHED) && rnd(c, 30) == 0) {
		/* Let the kernel end the lease with the handle. */
		id = ++c->next_id;
		t0 = now();
		record("%" PRId64 " inv p=%s node=%d id=%ld op=close", t0, c->proc,
		       node, id);
		dlock_close(c->d);
		c->d = NULL;
		t1 = now();
		record("%" PRId64 " ok p=%s node=%d id=%ld t0=%" PRId64, t1, c->proc,
		       node, id, t0);
		client_open(c);
		return;
	}
	id = ++c->next_id;
	t0 = now();
	record("%" PRId64 " inv p=%s node=%d id=%ld op=release name=%s owner=%s",
	       t0, c->proc, node, id, name, owner);
	err = dlock_release(c->d, name, &own);
	t1 = now();
	if (err < 0)
		record("%" PRId64 " fail p=%s node=%d id=%ld t0=%" PRId64 " err=%s msg=%s",
		       t1, c->proc, node, id, t0, errname(-err), why(c, err));
	else
		record("%" PRId64 " ok p=%s node=%d id=%ld t0=%" PRId64 " left=%d",
		       t1, c->proc, node, id, t0, err);
}

static void *client_main(void *arg)
{
	struct client *c = arg;

	record("%" PRId64 " start p=%s node=%d", now(), c->proc, node);
	while (!stopping()) {
		if (!c->d && client_open(c)) {
			usleep(100000);
			continue;
		}
		round_once(c);
	}
	dlock_close(c->d);
	record("%" PRId64 " end p=%s node=%d", now(), c->proc, node);
	return NULL;
}

static int usage(void)
{
	fprintf(stderr, "usage: workload --node N --proc PREFIX --out FILE [--threads K]\n"
		"                [--duration SEC] [--stop-file PATH] [--names M] [--seed S]\n");
	return 2;
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "node", required_argument, NULL, 'n' },
		{ "proc", required_argument, NULL, 'p' },
		{ "out", required_argument, NULL, 'o' },
		{ "threads", required_argument, NULL, 'k' },
		{ "duration", required_argument, NULL, 'd' },
		{ "stop-file", required_argument, NULL, 's' },
		{ "names", required_argument, NULL, 'm' },
		{ "seed", required_argument, NULL, 'r' },
		{ NULL, 0, NULL, 0 },
	};
	struct client *cl;
	pthread_t *th;
	const char *out = NULL;
	int threads = 4, duration = 10, i, c;

	/* The scripts' clock: the same CLOCK_MONOTONIC as the histories. */
	if (argc == 2 && !strcmp(argv[1], "--now")) {
		printf("%" PRId64 "\n", now());
		return 0;
	}
	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (c) {
		case 'n': node = atoi(optarg); break;
		case 'p': prefix = optarg; break;
		case 'o': out = optarg; break;
		case 'k': threads = atoi(optarg); break;
		case 'd': duration = atoi(optarg); break;
		case 's': stop_file = optarg; break;
		case 'm': nnames = atoi(optarg); break;
		case 'r': seed = strtoul(optarg, NULL, 0); break;
		default: return usage();
		}
	}
	if (optind != argc || node < 1 || !prefix || !out || threads < 1 ||
	    threads > 256 || duration < 1 || nnames < 1)
		return usage();
	if (strlen(prefix) > 20 || strpbrk(prefix, " \t=")) {
		fprintf(stderr, "workload: --proc: 1 to 20 characters, no blank or '='\n");
		return 2;
	}
	out_fd = open(out, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
	if (out_fd < 0) {
		fprintf(stderr, "workload: %s: %s\n", out, strerror(errno));
		return 1;
	}
	deadline = now() + (int64_t)duration * 1000000000LL;
	if (!seed)
		seed = (unsigned int)now() ^ (unsigned int)getpid();
	record("# dlock history v1: workload node %d, %d threads, seed %u", node,
	       threads, seed);
	cl = calloc(threads, sizeof(*cl));
	th = calloc(threads, sizeof(*th));
	if (!cl || !th)
		return 1;
	for (i = 0; i < threads; i++) {
		cl[i].idx = i;
		cl[i].rnd = seed + 7919 * i;
		snprintf(cl[i].proc, sizeof(cl[i].proc), "%st%d", prefix, i);
		if (pthread_create(&th[i], NULL, client_main, &cl[i])) {
			fprintf(stderr, "workload: pthread_create failed\n");
			return 1;
		}
	}
	for (i = 0; i < threads; i++)
		pthread_join(th[i], NULL);
	return 0;
}
