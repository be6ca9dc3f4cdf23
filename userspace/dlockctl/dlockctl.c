// SPDX-License-Identifier: GPL-2.0
/*
 * dlockctl: command-line client of dlock.
 *
 * Exit codes (stable, for scripts):
 *   0  success
 *   1  the request failed (the kernel refused it or it could not be sent)
 *   2  usage error (unknown command or option, bad argument)
 *   3  the dlock module is not loaded
 *   4  the lock is busy: --try found it held, or --wait ran out
 *   5  run: the lease was lost (expired or broken) and CMD was terminated
 * `run` otherwise exits with CMD's status (128+N when a signal N ended it).
 * A signal N that interrupts a wait (lock, run) withdraws it: exit 128+N.
 * Output that cannot be written (a full disk, a closed pipe) is exit 1.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/random.h>
#include <sys/signalfd.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "dlock.h"
#include "metrics.h"
#include "output.h"

#define EXIT_FAILED	1
#define EXIT_USAGE	2
#define EXIT_NOMODULE	3
#define EXIT_BUSY	4
#define EXIT_LOST	5

#define max(a, b) ((a) > (b) ? (a) : (b))

static bool json;
static const char *prog = "dlockctl";
static const char *cmdname = "";

struct command {
	const char *name;
	int (*run)(int argc, char **argv);
	const char *usage;
	const char *help;
};

static int usage_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static int usage_error(const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "%s: %s%s", prog, cmdname, *cmdname ? ": " : "");
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, "\nTry '%s --help'.\n", prog);
	return EXIT_USAGE;
}

/* Opens a handle or explains why not; returns an exit code on failure. */
static int open_or_explain(struct dlock **d)
{
	int err = dlock_open(d);

	if (!err)
		return 0;
	fprintf(stderr, "%s: %s\n", prog, dlock_strerror(NULL, err));
	if (err == -ENOENT) {
		fprintf(stderr, "%s: load it with 'insmod dlock.ko' (or 'modprobe dlock')\n",
			prog);
		return EXIT_NOMODULE;
	}
	return EXIT_FAILED;
}

static int request_failed(struct dlock *d, const char *what, int err)
{
	const char *msg = err == -ETIMEDOUT ? "timed out waiting for the lock" :
			  err == -EINTR ? "interrupted; the wait was withdrawn" :
			  dlock_strerror(d, err);

	fprintf(stderr, "%s: ", prog);
	out_text(stderr, what, strlen(what), OUT_LINE);	/* a lock name */
	fprintf(stderr, ": %s\n", msg);
	return err == -EAGAIN || err == -ETIMEDOUT ? EXIT_BUSY : EXIT_FAILED;
}

/* Other users choose names, owners, values: print them escaped. */
static void text(const char *s, size_t len)
{
	out_text(stdout, s, len, OUT_WORD);
}

static void json_member(bool comma, const char *key, const char *s, size_t len)
{
	out_json_member(stdout, comma, key, s, len);
}

/* ---- argument parsing ------------------------------------------------- */

/* Milliseconds: a number with an optional unit ms, s, m or h. */
static int parse_ms(const char *opt, const char *arg, uint32_t *out)
{
	unsigned long long v, mult = 1;
	char *end;

	errno = 0;
	v = strtoull(arg, &end, 10);
	if (errno || end == arg || *arg == '-')
		return usage_error("%s: '%s' is not a duration (milliseconds, or with s/m/h)",
				   opt, arg);
	if (!strcmp(end, "s"))
		mult = 1000;
	else if (!strcmp(end, "m"))
		mult = 60000;
	else if (!strcmp(end, "h"))
		mult = 3600000;
	else if (*end && strcmp(end, "ms"))
		return usage_error("%s: '%s' has an unknown unit (use ms, s, m or h)",
				   opt, arg);
	if (v * mult > UINT32_MAX || v > UINT32_MAX)
		return usage_error("%s: '%s' is too long (at most %u ms)", opt,
				   arg, UINT32_MAX);
	*out = (uint32_t)(v * mult);
	return 0;
}

static int parse_u64(const char *opt, const char *arg, uint64_t *out)
{
	char *end;

	errno = 0;
	*out = strtoull(arg, &end, 10);
	if (errno || end == arg || *end || *arg == '-')
		return usage_error("%s: '%s' is not a number", opt, arg);
	return 0;
}

static int check_name(const char *what, const char *name)
{
	size_t len = strlen(name);

	if (len == 0)
		return usage_error("%s is empty", what);
	if (len > DLOCK_NAME_MAX)
		return usage_error("%s is %zu bytes long (at most %d)", what,
				   len, DLOCK_NAME_MAX);
	return 0;
}

/* Options shared by lock and run. */
struct lock_args {
	const char *name;
	struct dlock_acquire_opts o;
	bool have_ttl;
	bool have_wait;
	const char *owner;
	const char *value;
	uint32_t grace_ms;
	uint64_t token;
	bool have_token;
	bool have_shared;
	bool have_permits;
};

enum {
	OPT_SHARED = 256, OPT_PERMITS, OPT_TTL, OPT_WAIT, OPT_TRY, OPT_OWNER,
	OPT_VALUE, OPT_GRACE, OPT_TOKEN,
};

static const struct option lock_opts[] = {
	{ "shared", no_argument, NULL, OPT_SHARED },
	{ "permits", required_argument, NULL, OPT_PERMITS },
	{ "ttl", required_argument, NULL, OPT_TTL },
	{ "wait", required_argument, NULL, OPT_WAIT },
	{ "try", no_argument, NULL, OPT_TRY },
	{ "owner", required_argument, NULL, OPT_OWNER },
	{ "value", required_argument, NULL, OPT_VALUE },
	{ "grace", required_argument, NULL, OPT_GRACE },
	{ "token", required_argument, NULL, OPT_TOKEN },
	{ NULL, 0, NULL, 0 },
};

static const char *opt_name(int c)
{
	const struct option *o;

	for (o = lock_opts; o->name; o++)
		if (o->val == c)
			return o->name;
	return "?";
}

/*
 * Parses the options of a subcommand; @allowed lists the OPT_* it takes.
 * Options may come before or after the operands; afterwards argv[1] up to
 * *pargc holds the operands in order and optind is 1.
 */
static int parse_lock_args(int *pargc, char **argv, const int *allowed,
			   struct lock_args *la)
{
	int argc = *pargc;
	uint64_t permits;
	int c, i, err, nops = 1;
	bool ok;

	/* Options may follow the operands; "--" ends them (run's CMD). */
	optind = 0;
	opterr = 0;
	while ((c = getopt_long(argc, argv, "-", lock_opts, NULL)) != -1) {
		if (c == 1) {
			/* An operand, in order: keep it for the caller. */
			argv[nops++] = optarg;
			continue;
		}
		if (c == '?')
			return usage_error("unknown option '%s'%s", argv[optind - 1],
					   strcmp(cmdname, "run") ? "" :
					   " (put -- before CMD and its options)");
		for (ok = false, i = 0; allowed[i]; i++)
			ok |= allowed[i] == c;
		if (!ok)
			return usage_error("option '--%s' does not apply here",
					   opt_name(c));
		err = 0;
		switch (c) {
		case OPT_SHARED:
			la->o.mode = DLOCK_MODE_SHARED;
			la->have_shared = true;
			break;
		case OPT_PERMITS:
			err = parse_u64("--permits", optarg, &permits);
			if (!err && (permits < 1 || permits > UINT32_MAX))
				err = usage_error("--permits: must be at least 1");
			la->o.mode = DLOCK_MODE_SEMAPHORE;
			la->o.permits = (uint32_t)permits;
			la->have_permits = true;
			break;
		case OPT_TTL:
			err = parse_ms("--ttl", optarg, &la->o.ttl_ms);
			if (!err && !la->o.ttl_ms)
				err = usage_error("--ttl: must be above zero");
			la->have_ttl = true;
			break;
		case OPT_WAIT:
			err = parse_ms("--wait", optarg, &la->o.wait_ms);
			la->have_wait = true;
			break;
		case OPT_TRY:
			la->o.flags |= DLOCK_F_TRY;
			break;
		case OPT_OWNER:
			la->owner = optarg;
			if (!*optarg || strlen(optarg) > DLOCK_OWNER_MAX)
				err = usage_error("--owner: must be 1 to %d bytes",
						  DLOCK_OWNER_MAX);
			break;
		case OPT_VALUE:
			la->value = optarg;
			if (strlen(optarg) > DLOCK_VALUE_MAX)
				err = usage_error("--value: at most %d bytes",
						  DLOCK_VALUE_MAX);
			break;
		case OPT_GRACE:
			err = parse_ms("--grace", optarg, &la->grace_ms);
			break;
		case OPT_TOKEN:
			err = parse_u64("--token", optarg, &la->token);
			la->have_token = true;
			break;
		}
		if (err)
			return err;
	}
	/* Operands after "--" follow the ones seen among the options. */
	for (i = optind; i < argc; i++)
		argv[nops++] = argv[i];
	argv[nops] = NULL;	/* run hands the tail to execvp() */
	optind = 1;
	*pargc = nops;
	if (la->have_shared && la->have_permits)
		return usage_error("--shared and --permits exclude each other");
	if ((la->o.flags & DLOCK_F_TRY) && la->have_wait)
		return usage_error("--try and --wait exclude each other");
	return 0;
}

static int need_name(int argc, char **argv, struct lock_args *la, bool last)
{
	if (optind >= argc)
		return usage_error("missing lock NAME");
	la->name = argv[optind++];
	if (last && optind < argc)
		return usage_error("unexpected argument '%s'", argv[optind]);
	return check_name("lock NAME", la->name);
}

/* ---- status ----------------------------------------------------------- */

static bool prometheus;	/* `metrics`: status in the Prometheus format */

static int cmd_status(int argc, char **argv)
{
	struct dlock_status st;
	struct dlock *d;
	int err;

	if (argc > 1)
		return usage_error("unexpected argument '%s'", argv[1]);
	err = open_or_explain(&d);
	if (err)
		return err;
	err = dlock_get_status(d, &st);
	if (err) {
		err = request_failed(d, "status", err);
		dlock_close(d);
		return err;
	}
	if (prometheus) {
		metrics_prometheus(stdout, &st);
	} else if (json) {
		putchar('{');
		json_member(false, "version", st.version, strlen(st.version));
		printf(",\"leases\":%" PRIu64 ",\"waiters\":%" PRIu64
		       ",\"requests\":%" PRIu64, st.leases, st.waiters,
		       st.requests);
		out_json_u64(stdout, true, "netns_cookie", st.netns_cookie);
		printf(",\"memory\":%" PRIu64, st.memory);
		metrics_status_json(stdout, &st);
		printf("}\n");
	} else {
		printf("version: %s\nleases: %" PRIu64 "\nwaiters: %" PRIu64
		       "\nrequests: %" PRIu64 "\nnetns cookie: %" PRIu64
		       "\nmemory: %" PRIu64 " bytes\n",
		       st.version, st.leases, st.waiters, st.requests,
		       st.netns_cookie, st.memory);
		metrics_status_text(stdout, &st);
	}
	dlock_close(d);
	return 0;
}

/* ---- lock, unlock, renew, set-value, break ---------------------------- */

static volatile sig_atomic_t wait_signal;

static void on_wait_signal(int sig)
{
	wait_signal = sig;	/* interrupts the wait: libdlock withdraws it */
}

/*
 * A blocking wait ends on SIGINT, SIGTERM or SIGHUP, even where the signal
 * was ignored (a script's background job ignores SIGINT): libdlock then
 * withdraws the queued request, and we exit with 128+signal.
 */
static void catch_wait_signals(void)
{
	struct sigaction sa = { .sa_handler = on_wait_signal };

	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGHUP, &sa, NULL);
}

/* The exit code of a failed acquire. */
static int acquire_failed(struct dlock *d, const char *name, int err)
{
	int code = request_failed(d, name, err);

	return err == -EINTR && wait_signal ? 128 + wait_signal : code;
}

/* An owner string nobody else will pick: host, pid, time and randomness. */
static void make_owner(char *buf, size_t size)
{
	char host[32] = "host";
	uint32_t rnd = 0;

	/* An unset hostname reads "(none)": keep the owner shell-friendly. */
	if (gethostname(host, sizeof(host) - 1) || !host[0] || host[0] == '(')
		snprintf(host, sizeof(host), "host");
	host[sizeof(host) - 1] = '\0';
	if (getrandom(&rnd, sizeof(rnd), 0) != sizeof(rnd))
		rnd = (uint32_t)time(NULL) ^ (uint32_t)getpid();
	snprintf(buf, size, "%.24s-%d-%08x", host, (int)getpid(), rnd);
}

static int cmd_lock(int argc, char **argv)
{
	static const int allowed[] = { OPT_SHARED, OPT_PERMITS, OPT_TTL,
				       OPT_WAIT, OPT_TRY, OPT_OWNER, OPT_VALUE,
				       0 };
	struct lock_args la = {};
	char owner[DLOCK_OWNER_MAX + 1];
	struct dlock_owner own;
	struct dlock_lease lease;
	struct dlock *d;
	int err;

	err = parse_lock_args(&argc, argv, allowed, &la);
	if (err)
		return err;
	err = need_name(argc, argv, &la, true);
	if (err)
		return err;
	if (!la.have_ttl)
		return usage_error("--ttl is required: a lock taken from the shell outlives dlockctl");
	if (la.owner)
		snprintf(owner, sizeof(owner), "%s", la.owner);
	else
		make_owner(owner, sizeof(owner));
	la.o.flags |= DLOCK_F_DETACHED;
	la.o.owner = owner;

	err = open_or_explain(&d);
	if (err)
		return err;
	catch_wait_signals();
	err = dlock_acquire(d, la.name, &la.o, &lease);
	if (err) {
		err = acquire_failed(d, la.name, err);
		dlock_close(d);
		return err;
	}
	own.str = owner;
	own.tag = 0;
	if (la.value) {
		err = dlock_set_value(d, la.name, &own, la.value,
				      strlen(la.value));
		if (err) {
			/* Do not leave a lease the caller thinks failed. */
			request_failed(d, "--value", err);
			dlock_release(d, la.name, &own);
			dlock_close(d);
			return EXIT_FAILED;
		}
	}
	if (json) {
		putchar('{');
		json_member(false, "name", la.name, strlen(la.name));
		json_member(true, "owner", owner, strlen(owner));
		out_json_u64(stdout, true, "token", lease.token);
		printf(",\"count\":%u,\"ttl_ms\":%u}\n", lease.count,
		       lease.ttl_ms);
	} else {
		printf("owner ");
		text(owner, strlen(owner));
		printf("\ntoken %" PRIu64 "\n", lease.token);
	}
	dlock_close(d);
	return 0;
}

static int cmd_owned(int argc, char **argv, int cmd)
{
	static const int allowed[] = { OPT_OWNER, OPT_TTL, 0 };
	struct lock_args la = {};
	struct dlock_owner own = {};
	const char *value = NULL;
	struct dlock *d;
	int err;

	err = parse_lock_args(&argc, argv, allowed, &la);
	if (err)
		return err;
	err = need_name(argc, argv, &la, cmd != DLOCK_CMD_SET_VALUE);
	if (err)
		return err;
	if (cmd == DLOCK_CMD_SET_VALUE) {
		if (optind >= argc)
			return usage_error("missing VALUE");
		value = argv[optind++];
		if (optind < argc)
			return usage_error("unexpected argument '%s'", argv[optind]);
		if (strlen(value) > DLOCK_VALUE_MAX)
			return usage_error("VALUE is longer than %d bytes",
					   DLOCK_VALUE_MAX);
	}
	if (!la.owner)
		return usage_error("--owner is required (the owner 'dlockctl lock' printed)");
	if (cmd == DLOCK_CMD_RENEW && !la.have_ttl)
		return usage_error("--ttl is required");
	if (cmd != DLOCK_CMD_RENEW && la.have_ttl)
		return usage_error("--ttl does not apply here");
	own.str = la.owner;

	err = open_or_explain(&d);
	if (err)
		return err;
	if (cmd == DLOCK_CMD_RELEASE)
		err = dlock_release(d, la.name, &own);
	else if (cmd == DLOCK_CMD_RENEW)
		err = dlock_renew(d, la.name, &own, la.o.ttl_ms);
	else
		err = dlock_set_value(d, la.name, &own, value, strlen(value));
	if (err < 0) {
		err = request_failed(d, la.name, err);
		dlock_close(d);
		return err;
	}
	if (cmd == DLOCK_CMD_RELEASE && json) {
		putchar('{');
		json_member(false, "name", la.name, strlen(la.name));
		printf(",\"count\":%d}\n", err);
	}
	dlock_close(d);
	return 0;
}

static int cmd_unlock(int argc, char **argv)
{
	return cmd_owned(argc, argv, DLOCK_CMD_RELEASE);
}

static int cmd_renew(int argc, char **argv)
{
	return cmd_owned(argc, argv, DLOCK_CMD_RENEW);
}

static int cmd_set_value(int argc, char **argv)
{
	return cmd_owned(argc, argv, DLOCK_CMD_SET_VALUE);
}

static int cmd_break(int argc, char **argv)
{
	static const int allowed[] = { OPT_TOKEN, 0 };
	struct lock_args la = {};
	struct dlock *d;
	int err;

	err = parse_lock_args(&argc, argv, allowed, &la);
	if (err)
		return err;
	err = need_name(argc, argv, &la, true);
	if (err)
		return err;
	if (la.have_token && !la.token)
		return usage_error("--token: tokens start at 1");
	err = open_or_explain(&d);
	if (err)
		return err;
	err = dlock_break(d, la.name, la.token);
	if (err)
		err = request_failed(d, la.name, err);
	dlock_close(d);
	return err;
}

/* ---- get, list -------------------------------------------------------- */

static int cmd_get(int argc, char **argv)
{
	static const int allowed[] = { 0 };
	struct lock_args la = {};
	struct dlock_lock_info *li;
	struct dlock *d;
	int err;

	err = parse_lock_args(&argc, argv, allowed, &la);
	if (err)
		return err;
	err = need_name(argc, argv, &la, true);
	if (err)
		return err;
	err = open_or_explain(&d);
	if (err)
		return err;
	err = dlock_get(d, la.name, &li);
	if (err) {
		err = request_failed(d, la.name, err);
		dlock_close(d);
		return err;
	}
	out_lock(li, json);
	if (json)
		putchar('\n');
	dlock_lock_info_free(li);
	dlock_close(d);
	return 0;
}

static int list_one(const struct dlock_lock_info *li, void *arg)
{
	int *n = arg;

	if (json && (*n)++)
		putchar(',');
	out_lock(li, json);
	return 0;
}

/* Arguments of list and watch: no options, an optional PREFIX. */
static int parse_prefix_args(int argc, char **argv, const char **prefix)
{
	static const int allowed[] = { 0 };
	struct lock_args la = {};
	int err;

	*prefix = NULL;
	err = parse_lock_args(&argc, argv, allowed, &la);
	if (err)
		return err;
	if (optind < argc) {
		*prefix = argv[optind++];
		err = check_name("PREFIX", *prefix);
		if (err)
			return err;
	}
	if (optind < argc)
		return usage_error("unexpected argument '%s'", argv[optind]);
	return 0;
}

static int cmd_list(int argc, char **argv)
{
	const char *prefix;
	struct dlock *d;
	int err, n = 0;

	err = parse_prefix_args(argc, argv, &prefix);
	if (err)
		return err;
	err = open_or_explain(&d);
	if (err)
		return err;
	if (json)
		putchar('[');
	err = dlock_list(d, prefix, list_one, &n);
	if (json)
		printf("]\n");
	if (err == -EAGAIN) {
		fprintf(stderr, "%s: list: the table changed while it was listed; run again for an exact picture\n",
			prog);
		err = 0;
	} else if (err < 0) {
		err = request_failed(d, "list", err);
	} else {
		err = 0;
	}
	dlock_close(d);
	return err;
}

/* ---- watch ------------------------------------------------------------ */

/* errno of the first failed write of watch's output, 0 while all went out. */
static int watch_out_err;

/* Each event goes out at once; a reader that is gone ends the watch. */
static void watch_flush(void)
{
	if ((fflush(stdout) || ferror(stdout)) && !watch_out_err)
		watch_out_err = errno ? errno : EIO;
}

static void print_event(struct dlock *d, const struct dlock_event *ev,
			void *arg)
{
	(void)d;
	(void)arg;
	out_event(ev, json);
	watch_flush();
}

/* The kernel dropped events: say so in the stream and on stderr. */
static void print_overflow(struct dlock *d, void *arg)
{
	(void)d;
	(void)arg;
	fprintf(stderr, "%s: watch: events were lost (the receive queue overflowed); 'dlockctl list' shows the state now\n",
		prog);
	out_overflow(json);
	watch_flush();
}

static int cmd_watch(int argc, char **argv)
{
	const char *prefix;
	struct pollfd p;
	struct dlock *d;
	int err;

	err = parse_prefix_args(argc, argv, &prefix);
	if (err)
		return err;
	err = open_or_explain(&d);
	if (err)
		return err;
	err = dlock_watch(d, prefix, print_event, NULL);
	if (err) {
		err = request_failed(d, "watch", err);
		dlock_close(d);
		return err;
	}
	dlock_on_overflow(d, print_overflow, NULL);
	p.fd = dlock_fd(d);
	p.events = POLLIN;
	while (!watch_out_err) {
		if (poll(&p, 1, -1) < 0 && errno != EINTR) {
			err = request_failed(d, "watch", -errno);
			break;
		}
		err = dlock_dispatch(d);
		if (err < 0) {
			err = request_failed(d, "watch", err);
			break;
		}
	}
	dlock_close(d);
	if (watch_out_err) {
		fprintf(stderr, "%s: watch: cannot write output: %s\n", prog,
			strerror(watch_out_err));
		return EXIT_FAILED;
	}
	return err;
}

/* ---- run -------------------------------------------------------------- */

struct run_state {
	const char *name;
	bool lost;
	enum dlock_lost_reason reason;
};

static void run_lost(struct dlock *d, const struct dlock_lost *ls, void *arg)
{
	struct run_state *rs = arg;

	(void)d;
	if (strcmp(ls->name, rs->name))
		return;
	rs->lost = true;
	rs->reason = ls->reason;
}

/*
 * CMD inherits the lease's socket, as flock(1)'s CMD inherits the locked
 * file: the kernel ends the session only when its last copy is closed, so
 * the lock stays while any process of CMD runs, even one that changed its
 * credentials or outlived a killed dlockctl.
 */
static pid_t run_child(struct dlock *d, char **argv, uint64_t token,
		       sigset_t *oldmask)
{
	char buf[32];
	pid_t pid = fork();
	int err;

	if (pid)
		return pid;
	/* Without dlockctl nobody renews the lease or acts on its loss. */
	prctl(PR_SET_PDEATHSIG, SIGKILL);
	err = dlock_set_inherit(d, 1);
	if (err) {
		fprintf(stderr, "%s: run: cannot hand the lease to CMD: %s\n",
			prog, strerror(-err));
		_exit(127);
	}
	snprintf(buf, sizeof(buf), "%d", dlock_fd(d));
	setenv("DLOCK_FD", buf, 1);
	snprintf(buf, sizeof(buf), "%" PRIu64, token);
	setenv("DLOCK_TOKEN", buf, 1);
	sigprocmask(SIG_SETMASK, oldmask, NULL);
	execvp(argv[0], argv);
	fprintf(stderr, "%s: run: cannot execute '%s': %s\n", prog, argv[0],
		strerror(errno));
	_exit(127);
}

static int wait_status(int status)
{
	if (WIFEXITED(status))
		return WEXITSTATUS(status);
	return 128 + WTERMSIG(status);
}

static int64_t mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000LL + ts.tv_nsec / 1000000;
}

/* Milliseconds until @deadline for poll(), -1 for none. */
static int until(int64_t deadline)
{
	int64_t left;

	if (!deadline)
		return -1;
	left = deadline - mono_ms();
	return left < 0 ? 0 : left > INT_MAX ? INT_MAX : (int)left;
}

static int min_timeout(int a, int b)
{
	if (a < 0)
		return b;
	if (b < 0)
		return a;
	return a < b ? a : b;
}

/*
 * Supervises CMD: forwards signals to it, renews a TTL'd lease at a third of
 * its TTL (two chances to miss), and ends CMD when the lease is lost:
 * SIGTERM at once, SIGKILL after the grace period.
 */
static int run_supervise(struct dlock *d, struct run_state *rs, pid_t child,
			 int sfd, const struct lock_args *la,
			 const struct dlock_lease *lease)
{
	/* Renew by the TTL granted, which the namespace's cap may have cut. */
	uint32_t renew_every = lease->ttl_ms ? max(lease->ttl_ms / 3, 1U) : 0;
	uint32_t grace = la->grace_ms ? la->grace_ms : 5000;
	int64_t next_renew = renew_every ? mono_ms() + renew_every : 0;
	int64_t kill_at = 0;
	struct pollfd p[2] = {
		{ .fd = dlock_fd(d), .events = POLLIN },
		{ .fd = sfd, .events = POLLIN },
	};
	struct signalfd_siginfo si;
	bool terminating = false;
	int status, n;

	for (;;) {
		n = poll(p, 2, min_timeout(until(next_renew), until(kill_at)));
		if (n < 0 && errno != EINTR)
			return EXIT_FAILED;
		if (kill_at && mono_ms() >= kill_at) {
			kill(child, SIGKILL);
			kill_at = 0;
		}
		if (next_renew && mono_ms() >= next_renew) {
			/* A failed renewal shows up as a lost lease. */
			dlock_renew(d, rs->name, NULL, lease->ttl_ms);
			next_renew = mono_ms() + renew_every;
		}
		if (n > 0 && (p[0].revents & POLLIN))
			dlock_dispatch(d);
		if (rs->lost && !terminating) {
			fprintf(stderr, "%s: run: lease on %s %s; terminating CMD\n",
				prog, rs->name,
				rs->reason == DLOCK_LOST_BROKEN ? "was broken" : "expired");
			kill(child, SIGTERM);
			kill_at = mono_ms() + grace;
			next_renew = 0;
			terminating = true;
		}
		if (n > 0 && (p[1].revents & POLLIN) &&
		    read(sfd, &si, sizeof(si)) == sizeof(si) &&
		    si.ssi_signo != SIGCHLD)
			kill(child, si.ssi_signo);
		if (waitpid(child, &status, WNOHANG) == child)
			return rs->lost ? EXIT_LOST : wait_status(status);
	}
}

static int cmd_run(int argc, char **argv)
{
	static const int allowed[] = { OPT_SHARED, OPT_PERMITS, OPT_TTL,
				       OPT_WAIT, OPT_TRY, OPT_GRACE, OPT_VALUE,
				       0 };
	struct lock_args la = {};
	struct run_state rs = {};
	struct dlock_lease lease;
	sigset_t mask, oldmask;
	struct dlock *d;
	pid_t child;
	int err, sfd;

	err = parse_lock_args(&argc, argv, allowed, &la);
	if (err)
		return err;
	err = need_name(argc, argv, &la, false);
	if (err)
		return err;
	if (optind >= argc)
		return usage_error("missing CMD to run under the lock");
	/* Without a TTL the lease lives exactly as long as dlockctl. */
	if (!la.have_ttl)
		la.o.flags |= DLOCK_F_NO_TTL;
	rs.name = la.name;

	err = open_or_explain(&d);
	if (err)
		return err;
	dlock_on_lost(d, run_lost, &rs);
	catch_wait_signals();
	err = dlock_acquire(d, la.name, &la.o, &lease);
	if (err) {
		err = acquire_failed(d, la.name, err);
		dlock_close(d);
		return err;
	}
	if (la.value && dlock_set_value(d, la.name, NULL, la.value,
					strlen(la.value)) < 0)
		fprintf(stderr, "%s: run: --value: %s\n", prog,
			dlock_strerror(d, -EIO));

	sigemptyset(&mask);
	sigaddset(&mask, SIGCHLD);
	sigaddset(&mask, SIGINT);
	sigaddset(&mask, SIGTERM);
	sigaddset(&mask, SIGHUP);
	sigaddset(&mask, SIGQUIT);
	sigprocmask(SIG_BLOCK, &mask, &oldmask);
	sfd = signalfd(-1, &mask, SFD_CLOEXEC);
	if (sfd < 0) {
		fprintf(stderr, "%s: run: signalfd: %s\n", prog, strerror(errno));
		dlock_close(d);
		return EXIT_FAILED;
	}
	child = run_child(d, argv + optind, lease.token, &oldmask);
	if (child < 0) {
		fprintf(stderr, "%s: run: fork: %s\n", prog, strerror(errno));
		dlock_close(d);
		return EXIT_FAILED;
	}
	err = run_supervise(d, &rs, child, sfd, &la, &lease);
	close(sfd);
	/* Releases the lease, unless processes CMD left behind still hold it. */
	dlock_close(d);
	return err;
}

/* ---- config ----------------------------------------------------------- */

/* A per-user limit as set ("auto", a number) and the one in force. */
static void print_user_limit(const char *what, uint32_t set, uint32_t now)
{
	if (set == DLOCK_USER_LIMIT_AUTO)
		printf("%s: auto (%u now)\n", what, now);
	else
		printf("%s: %u\n", what, set);
}

static void print_config(const struct dlock_config *c)
{
	if (json) {
		printf("{\"max_ttl_ms\":%u,\"max_leases\":%u,\"max_waiters\":%u,"
		       "\"max_socket_leases\":%u,\"max_socket_waiters\":%u,",
		       c->max_ttl_ms, c->max_leases, c->max_waiters,
		       c->max_socket_leases, c->max_socket_waiters);
		printf("\"max_user_leases\":%u,\"max_user_waiters\":%u,"
		       "\"max_user_value_bytes\":%u,\"user_leases\":%u,"
		       "\"user_waiters\":%u,\"user_value_bytes\":%u}\n",
		       c->max_user_leases, c->max_user_waiters,
		       c->max_user_value_bytes, c->user_leases,
		       c->user_waiters, c->user_value_bytes);
		return;
	}
	printf("max-ttl: %ums\nmax-leases: %u\nmax-waiters: %u\n"
	       "max-socket-leases: %u\nmax-socket-waiters: %u\n",
	       c->max_ttl_ms, c->max_leases, c->max_waiters,
	       c->max_socket_leases, c->max_socket_waiters);
	print_user_limit("max-user-leases", c->max_user_leases, c->user_leases);
	print_user_limit("max-user-waiters", c->max_user_waiters,
			 c->user_waiters);
	print_user_limit("max-user-value-bytes", c->max_user_value_bytes,
			 c->user_value_bytes);
	printf("(0: no limit)\n");
}

/* --max-user-*: a number, or "auto" for the share of the namespace limit. */
static int parse_user_limit(const char *opt, const char *arg, uint32_t *out)
{
	uint64_t v;
	int err;

	if (!strcmp(arg, "auto")) {
		*out = DLOCK_USER_LIMIT_AUTO;
		return 0;
	}
	err = parse_u64(opt, arg, &v);
	if (!err && v >= DLOCK_USER_LIMIT_AUTO)
		err = usage_error("%s: '%s' is too large", opt, arg);
	if (!err)
		*out = v;
	return err;
}

static int parse_config_set(int argc, char **argv, struct dlock_config *c,
			    unsigned int *set)
{
	static const struct option opts[] = {
		{ "max-ttl", required_argument, NULL, 't' },
		{ "max-leases", required_argument, NULL, 'l' },
		{ "max-waiters", required_argument, NULL, 'w' },
		{ "max-socket-leases", required_argument, NULL, 'L' },
		{ "max-socket-waiters", required_argument, NULL, 'W' },
		{ "max-user-leases", required_argument, NULL, 'u' },
		{ "max-user-waiters", required_argument, NULL, 'U' },
		{ "max-user-value-bytes", required_argument, NULL, 'V' },
		{ NULL, 0, NULL, 0 },
	};
	uint64_t v;
	int ch, err;

	optind = 1;
	opterr = 0;
	while ((ch = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		if (ch == '?')
			return usage_error("unknown option '%s'", argv[optind - 1]);
		if (ch == 't') {
			err = parse_ms("--max-ttl", optarg, &c->max_ttl_ms);
			if (!err && !c->max_ttl_ms)
				err = usage_error("--max-ttl: must be above zero");
			*set |= DLOCK_CFG_MAX_TTL_MS;
		} else if (ch == 'u') {
			err = parse_user_limit("--max-user-leases", optarg,
					       &c->max_user_leases);
			*set |= DLOCK_CFG_MAX_USER_LEASES;
		} else if (ch == 'U') {
			err = parse_user_limit("--max-user-waiters", optarg,
					       &c->max_user_waiters);
			*set |= DLOCK_CFG_MAX_USER_WAITERS;
		} else if (ch == 'V') {
			err = parse_user_limit("--max-user-value-bytes", optarg,
					       &c->max_user_value_bytes);
			*set |= DLOCK_CFG_MAX_USER_VALUE_BYTES;
		} else {
			err = parse_u64("limit", optarg, &v);
			if (!err && v > UINT32_MAX)
				err = usage_error("'%s' is too large", optarg);
			switch (ch) {
			case 'l':
				c->max_leases = v;
				*set |= DLOCK_CFG_MAX_LEASES;
				break;
			case 'w':
				c->max_waiters = v;
				*set |= DLOCK_CFG_MAX_WAITERS;
				break;
			case 'L':
				c->max_socket_leases = v;
				*set |= DLOCK_CFG_MAX_SOCKET_LEASES;
				break;
			case 'W':
				c->max_socket_waiters = v;
				*set |= DLOCK_CFG_MAX_SOCKET_WAITERS;
				break;
			}
		}
		if (err)
			return err;
	}
	if (optind < argc)
		return usage_error("unexpected argument '%s'", argv[optind]);
	if (!*set)
		return usage_error("set: give at least one --max-* option");
	return 0;
}

static int cmd_config(int argc, char **argv)
{
	struct dlock_config c = {};
	unsigned int set = 0;
	struct dlock *d;
	int err;

	if (argc > 1 && strcmp(argv[1], "set"))
		return usage_error("unknown argument '%s' (show with no argument, change with 'set')",
				   argv[1]);
	if (argc > 1) {
		err = parse_config_set(argc - 1, argv + 1, &c, &set);
		if (err)
			return err;
	}
	err = open_or_explain(&d);
	if (err)
		return err;
	err = set ? dlock_set_config(d, &c, set) : dlock_get_config(d, &c);
	if (err)
		err = request_failed(d, "config", err);
	else
		print_config(&c);
	dlock_close(d);
	return err;
}

static int cmd_metrics(int argc, char **argv)
{
	if (json)
		return usage_error("prints the Prometheus text format; -j does not apply");
	prometheus = true;
	return cmd_status(argc, argv);
}

/* ---- main ------------------------------------------------------------- */

static const struct command commands[] = {
	{ "status", cmd_status, "status",
	  "module version and this namespace's counters" },
	{ "metrics", cmd_metrics, "metrics",
	  "the same counters in the Prometheus text format" },
	{ "lock", cmd_lock,
	  "lock NAME --ttl MS [--shared|--permits N] [--wait MS|--try] [--owner STR] [--value STR]",
	  "take a detached lease; prints its owner and token" },
	{ "unlock", cmd_unlock, "unlock NAME --owner STR",
	  "release a detached lease (one reentrancy level)" },
	{ "renew", cmd_renew, "renew NAME --owner STR --ttl MS",
	  "restart a detached lease's TTL" },
	{ "set-value", cmd_set_value, "set-value NAME --owner STR VALUE",
	  "attach a value (up to 1 KiB) to a held lease" },
	{ "get", cmd_get, "get NAME", "show a lock's holders, waiters and value" },
	{ "list", cmd_list, "list [PREFIX]", "show every lock (with PREFIX)" },
	{ "watch", cmd_watch, "watch [PREFIX]", "print lock events as they happen" },
	{ "break", cmd_break, "break NAME [--token T]",
	  "end a lease by force (CAP_NET_ADMIN)" },
	{ "config", cmd_config,
	  "config [set [--max-ttl MS] [--max-leases N] [--max-waiters N] [--max-socket-leases N] [--max-socket-waiters N] [--max-user-leases N|auto] [--max-user-waiters N|auto] [--max-user-value-bytes N|auto]]",
	  "show or change this namespace's limits (set: CAP_NET_ADMIN)" },
	{ "run", cmd_run,
	  "run NAME [--shared|--permits N] [--ttl MS] [--wait MS|--try] [--grace MS] -- CMD...",
	  "run CMD holding the lock; DLOCK_TOKEN is set for it" },
};

static void print_help(FILE *f)
{
	size_t i;

	fprintf(f, "Usage: %s [-j] COMMAND [ARGS]\n\n"
		"Client of dlock, the lock service in the Linux kernel.\n\n"
		"Options:\n"
		"  -j, --json     print JSON instead of text\n"
		"  -h, --help     show this help\n"
		"  -V, --version  show the version\n\n"
		"Commands:\n", prog);
	for (i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
		fprintf(f, "  %s\n      %s\n", commands[i].usage,
			commands[i].help);
	fprintf(f, "\nDurations are milliseconds, or take a unit: 500ms, 30s, 5m, 1h.\n"
		"--wait without --try waits without limit when MS is 0 or absent.\n"
		"Exit codes: 0 ok, 1 request failed, 2 usage error, 3 module not loaded,\n"
		"4 lock busy (--try, or --wait ran out), 5 run: lease lost, CMD terminated;\n"
		"run otherwise exits with CMD's status; a signal N during a wait: 128+N.\n");
}

/*
 * A script must not take a listing cut short by a full disk or a closed
 * pipe for the whole: output that did not all go out fails the command.
 * (A failed write leaves errno alone until a later call fails.)
 */
static int output_written(int code)
{
	/* A command that failed has said why already. */
	if (code || (!fflush(stdout) && !ferror(stdout)))
		return code;
	fprintf(stderr, "%s: cannot write output: %s\n", prog,
		errno ? strerror(errno) : "write error");
	return EXIT_FAILED;
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "json", no_argument, NULL, 'j' },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ NULL, 0, NULL, 0 },
	};
	size_t i;
	int c;

	setvbuf(stdout, NULL, _IOLBF, 0);
	/* '+' stops at the command name: its options are its own. */
	opterr = 0;
	while ((c = getopt_long(argc, argv, "+jhV", opts, NULL)) != -1) {
		switch (c) {
		case 'j':
			json = true;
			break;
		case 'h':
			print_help(stdout);
			return 0;
		case 'V':
			printf("dlockctl %s (libdlock %s)\n", DLOCKCTL_VERSION,
			       dlock_version());
			return 0;
		default:
			return usage_error("unknown option '%s'",
					   argv[optind - 1]);
		}
	}
	if (optind >= argc)
		return usage_error("no command given");
	for (i = 0; i < sizeof(commands) / sizeof(commands[0]); i++) {
		if (!strcmp(argv[optind], commands[i].name)) {
			cmdname = commands[i].name;
			return output_written(commands[i].run(argc - optind,
							      argv + optind));
		}
	}
	return usage_error("unknown command '%s'", argv[optind]);
}
