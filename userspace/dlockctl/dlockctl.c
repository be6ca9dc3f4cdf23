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

	fprintf(stderr, "%s: %s: %s\n", prog, what, msg);
	return err == -EAGAIN || err == -ETIMEDOUT ? EXIT_BUSY : EXIT_FAILED;
}

/* Prints a JSON string literal of @len bytes. */
static void json_str(const char *s, size_t len)
{
	size_t i;

	putchar('"');
	for (i = 0; i < len; i++) {
		unsigned char c = (unsigned char)s[i];

		if (c == '"' || c == '\\')
			printf("\\%c", c);
		else if (c < 0x20 || c == 0x7f)
			printf("\\u%04x", c);
		else
			putchar(c);
	}
	putchar('"');
}

static void json_string(const char *s)
{
	json_str(s, strlen(s));
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
	if (json) {
		printf("{\"version\":");
		json_string(st.version);
		printf(",\"leases\":%" PRIu64 ",\"waiters\":%" PRIu64
		       ",\"requests\":%" PRIu64 ",\"netns_cookie\":%" PRIu64
		       ",\"memory\":%" PRIu64 "}\n",
		       st.leases, st.waiters, st.requests, st.netns_cookie,
		       st.memory);
	} else {
		printf("version: %s\nleases: %" PRIu64 "\nwaiters: %" PRIu64
		       "\nrequests: %" PRIu64 "\nnetns cookie: %" PRIu64
		       "\nmemory: %" PRIu64 " bytes\n",
		       st.version, st.leases, st.waiters, st.requests,
		       st.netns_cookie, st.memory);
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
		printf("{\"name\":");
		json_string(la.name);
		printf(",\"owner\":");
		json_string(owner);
		printf(",\"token\":%" PRIu64 ",\"count\":%u,\"ttl_ms\":%u}\n",
		       lease.token, lease.count, lease.ttl_ms);
	} else {
		printf("owner %s\ntoken %" PRIu64 "\n", owner, lease.token);
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
		printf("{\"name\":");
		json_string(la.name);
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

static const char *mode_name(enum dlock_mode m)
{
	switch (m) {
	case DLOCK_MODE_EXCLUSIVE:
		return "exclusive";
	case DLOCK_MODE_SHARED:
		return "shared";
	case DLOCK_MODE_SEMAPHORE:
		return "semaphore";
	}
	return "unknown";
}

static void print_entry_json(const struct dlock_entry *e, bool holder)
{
	printf("{\"mode\":\"%s\",", mode_name(e->mode));
	if (holder)
		printf("\"token\":%" PRIu64 ",\"count\":%u,", e->token, e->count);
	else if (!e->hidden)
		printf("\"cookie\":%" PRIu64 ",", e->cookie);
	if (e->hidden) {
		/* Another user's: the kernel shows only who, not what or how. */
		printf("\"uid\":%u,\"hidden\":true", e->uid);
		if (e->remaining_ms >= 0)
			printf(",\"remaining_ms\":%" PRId64, e->remaining_ms);
		putchar('}');
		return;
	}
	if (e->owner[0]) {
		printf("\"owner\":");
		json_string(e->owner);
	} else {
		printf("\"session\":%" PRIu64 ",\"tag\":%" PRIu64, e->session,
		       e->tag);
	}
	printf(",\"pid\":%u,\"uid\":%u,\"comm\":", e->pid, e->uid);
	json_string(e->comm);
	if (e->remaining_ms >= 0)
		printf(",\"remaining_ms\":%" PRId64, e->remaining_ms);
	if (holder && e->value) {
		printf(",\"value\":");
		json_str(e->value, e->value_len);
	}
	putchar('}');
}

static void print_entry_text(const struct dlock_entry *e, bool holder,
			     size_t pos)
{
	if (holder)
		printf("  holder %s token %" PRIu64 " count %u", mode_name(e->mode),
		       e->token, e->count);
	else
		printf("  waiter #%zu %s", pos + 1, mode_name(e->mode));
	if (e->hidden)
		printf(" uid %u", e->uid);
	else if (e->owner[0])
		printf(" owner %s", e->owner);
	else
		printf(" session %" PRIu64 " tag %" PRIu64, e->session, e->tag);
	if (!e->hidden)
		printf(" pid %u (%s) uid %u", e->pid, e->comm, e->uid);
	if (e->remaining_ms >= 0)
		printf(" %s %" PRId64 "ms", holder ? "ttl" : "timeout",
		       e->remaining_ms);
	putchar('\n');
	if (holder && e->value)
		printf("    value %.*s\n", (int)e->value_len,
		       (const char *)e->value);
}

static void print_lock(const struct dlock_lock_info *li)
{
	size_t i;

	if (json) {
		printf("{\"name\":");
		json_str(li->name, li->name_len);
		printf(",\"mode\":\"%s\"", mode_name(li->mode));
		if (li->mode == DLOCK_MODE_SEMAPHORE)
			printf(",\"permits\":%u", li->permits);
		printf(",\"holders\":[");
		for (i = 0; i < li->n_holders; i++) {
			if (i)
				putchar(',');
			print_entry_json(&li->holders[i], true);
		}
		printf("],\"waiters\":[");
		for (i = 0; i < li->n_waiters; i++) {
			if (i)
				putchar(',');
			print_entry_json(&li->waiters[i], false);
		}
		printf("]%s}", li->truncated ? ",\"truncated\":true" : "");
		return;
	}
	printf("%s: %s", li->name, mode_name(li->mode));
	if (li->mode == DLOCK_MODE_SEMAPHORE)
		printf(" permits %u", li->permits);
	printf(", %zu holder%s, %zu waiter%s\n", li->n_holders,
	       li->n_holders == 1 ? "" : "s", li->n_waiters,
	       li->n_waiters == 1 ? "" : "s");
	for (i = 0; i < li->n_holders; i++)
		print_entry_text(&li->holders[i], true, i);
	for (i = 0; i < li->n_waiters; i++)
		print_entry_text(&li->waiters[i], false, i);
	if (li->truncated)
		printf("  (more entries than a listing holds: 'dlockctl get %s' shows all)\n",
		       li->name);
}

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
	print_lock(li);
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
	print_lock(li);
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

static const char *event_name(enum dlock_event_type t)
{
	switch (t) {
	case DLOCK_EV_GRANTED:
		return "granted";
	case DLOCK_EV_RELEASED:
		return "released";
	case DLOCK_EV_EXPIRED:
		return "expired";
	case DLOCK_EV_OWNER_DIED:
		return "owner-died";
	case DLOCK_EV_BROKEN:
		return "broken";
	}
	return "unknown";
}

static void print_event(struct dlock *d, const struct dlock_event *ev,
			void *arg)
{
	(void)d;
	(void)arg;
	if (json) {
		printf("{\"event\":\"%s\",\"name\":", event_name(ev->type));
		json_str(ev->name, ev->name_len);
		printf(",\"mode\":\"%s\",\"token\":%" PRIu64 ",\"uid\":%u",
		       mode_name(ev->mode), ev->token, ev->uid);
		if (ev->hidden) {
			printf(",\"hidden\":true");
		} else if (ev->owner) {
			printf(",\"owner\":");
			json_string(ev->owner);
		} else {
			printf(",\"session\":%" PRIu64 ",\"tag\":%" PRIu64,
			       ev->session, ev->tag);
		}
		printf("}\n");
	} else {
		printf("%s %s %s token %" PRIu64, event_name(ev->type), ev->name,
		       mode_name(ev->mode), ev->token);
		if (ev->hidden)
			printf(" uid %u\n", ev->uid);
		else if (ev->owner)
			printf(" owner %s\n", ev->owner);
		else
			printf(" session %" PRIu64 " tag %" PRIu64 "\n",
			       ev->session, ev->tag);
	}
	fflush(stdout);
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
	p.fd = dlock_fd(d);
	p.events = POLLIN;
	for (;;) {
		if (poll(&p, 1, -1) < 0 && errno != EINTR)
			break;
		err = dlock_dispatch(d);
		if (err < 0) {
			err = request_failed(d, "watch", err);
			break;
		}
	}
	dlock_close(d);
	return err < 0 ? EXIT_FAILED : err;
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

static pid_t run_child(char **argv, uint64_t token, sigset_t *oldmask)
{
	char buf[32];
	pid_t pid = fork();

	if (pid)
		return pid;
	/* CMD must not outlive the lease's holder. */
	prctl(PR_SET_PDEATHSIG, SIGKILL);
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
	child = run_child(argv + optind, lease.token, &oldmask);
	if (child < 0) {
		fprintf(stderr, "%s: run: fork: %s\n", prog, strerror(errno));
		dlock_close(d);
		return EXIT_FAILED;
	}
	err = run_supervise(d, &rs, child, sfd, &la, &lease);
	close(sfd);
	dlock_close(d);		/* releases the lease */
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

/* ---- main ------------------------------------------------------------- */

static const struct command commands[] = {
	{ "status", cmd_status, "status",
	  "module version and this namespace's counters" },
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
			return commands[i].run(argc - optind, argv + optind);
		}
	}
	return usage_error("unknown command '%s'", argv[optind]);
}
