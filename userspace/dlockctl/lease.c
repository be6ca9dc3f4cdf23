// SPDX-License-Identifier: GPL-2.0
/*
 * dlockctl: the commands that take and act on one lease: lock, unlock,
 * renew, set-value and break, and what run and elect share with lock
 * (signals during a wait, -v, a TTL cut to the cap).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>

#include "dlockctl.h"
#include "duration.h"
#include "output.h"

volatile sig_atomic_t wait_signal;

static void on_wait_signal(int sig)
{
	wait_signal = sig;	/* interrupts the wait: libdlock withdraws it */
}

/*
 * A blocking wait ends on SIGINT, SIGTERM or SIGHUP, even where the signal
 * was ignored (a script's background job ignores SIGINT): libdlock then
 * withdraws the queued request, and we exit with 128+signal.
 */
void catch_wait_signals(void)
{
	struct sigaction sa = { .sa_handler = on_wait_signal };

	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGHUP, &sa, NULL);
}

/* The exit code of a failed acquire; -E chose the one for a busy lock. */
int acquire_failed(struct dlock *d, const char *name, int err,
		   const struct lock_args *la)
{
	int code = request_failed(d, name, err);

	if (err == -EINTR && wait_signal)
		return 128 + wait_signal;
	return code == EXIT_BUSY ? la->conflict_code : code;
}

void report_ttl_cut(const char *name, uint32_t asked, uint32_t granted)
{
	char a[32], g[32];

	if (!granted || granted >= asked)
		return;
	duration_format(a, sizeof(a), asked);
	duration_format(g, sizeof(g), granted);
	fprintf(stderr, "%s: ", prog);
	out_text(stderr, name, strlen(name), OUT_LINE);
	fprintf(stderr, ": TTL cut to %s, this namespace's cap (asked for %s)\n",
		g, a);
}

/* One holder or waiter of explain_wait(), as far as the caller may see. */
static void explain_entry(const char *name, const char *what,
			  const struct dlock_entry *e)
{
	fprintf(stderr, "%s: ", prog);
	out_text(stderr, name, strlen(name), OUT_LINE);
	if (e->hidden) {
		fprintf(stderr, ": queued behind a %s of uid %u (another user's: its process is not shown)\n",
			what, e->uid);
		return;
	}
	fprintf(stderr, ": queued behind a %s: pid %u (", what, e->pid);
	out_text(stderr, e->comm, strnlen(e->comm, sizeof(e->comm)), OUT_WORD);
	fprintf(stderr, ") uid %u", e->uid);
	if (e->owner_len) {
		fprintf(stderr, " owner ");
		out_text(stderr, e->owner, e->owner_len, OUT_WORD);
	}
	fputc('\n', stderr);
}

void explain_wait(struct dlock *d, const char *name)
{
	struct dlock_lock_info *li;
	size_t i;

	/* Released meanwhile: the wait that follows is short or none. */
	if (dlock_get(d, name, &li))
		return;
	for (i = 0; i < li->n_holders; i++)
		explain_entry(name, "holder", &li->holders[i]);
	for (i = 0; i < li->n_waiters; i++)
		explain_entry(name, "waiter", &li->waiters[i]);
	dlock_lock_info_free(li);
}

/*
 * Acquires as @la says.  With -v, a first try finds out whether the
 * request would wait, and if so whom behind: the queue can only be shown
 * before joining it, as libdlock's blocking acquire returns only once
 * granted.  The try takes no queue place, so nothing is lost by it.
 */
int acquire_lock(struct dlock *d, struct lock_args *la,
		 struct dlock_lease *lease)
{
	struct dlock_acquire_opts o = la->o;
	int err = -EAGAIN;

	if (la->verbose && !(o.flags & DLOCK_F_TRY)) {
		o.flags |= DLOCK_F_TRY;
		o.wait_ms = 0;		/* the kernel refuses a try with one */
		err = dlock_acquire(d, la->name, &o, lease);
		if (err == -EAGAIN)
			explain_wait(d, la->name);
	}
	if (err == -EAGAIN)
		err = dlock_acquire(d, la->name, &la->o, lease);
	if (!err && la->verbose) {
		fprintf(stderr, "%s: ", prog);
		out_text(stderr, la->name, strlen(la->name), OUT_LINE);
		fprintf(stderr, ": granted, token %" PRIu64 "\n", lease->token);
	}
	return err;
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

int cmd_lock(int argc, char **argv)
{
	static const int allowed[] = { OPT_SHARED, OPT_PERMITS, OPT_TTL,
				       OPT_WAIT, OPT_TRY, OPT_OWNER, OPT_VALUE,
				       OPT_WAIT_W, OPT_TRY_N, OPT_CONFLICT,
				       OPT_VERBOSE, 0 };
	struct lock_args la = {};
	char owner[DLOCK_OWNER_MAX + 1];
	struct dlock_owner own;
	struct dlock_lease lease;
	struct dlock *d;
	int err;

	err = parse_named_args(&argc, argv, allowed, &la, true);
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
	err = acquire_lock(d, &la, &lease);
	if (err) {
		err = acquire_failed(d, la.name, err, &la);
		dlock_close(d);
		return err;
	}
	report_ttl_cut(la.name, la.o.ttl_ms, lease.ttl_ms);
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

/*
 * The renew reply does not carry the TTL granted: compare with the cap.
 * Best effort: a caller who may not read the config is told nothing.
 */
static void report_renew_cut(struct dlock *d, const char *name, uint32_t ttl)
{
	struct dlock_config c;

	if (!dlock_get_config(d, &c) && c.max_ttl_ms < ttl)
		report_ttl_cut(name, ttl, c.max_ttl_ms);
}

static int cmd_owned(int argc, char **argv, int cmd)
{
	static const int allowed[] = { OPT_OWNER, OPT_TTL, 0 };
	struct lock_args la = {};
	struct dlock_owner own = {};
	const char *value = NULL;
	struct dlock *d;
	int err;

	err = parse_named_args(&argc, argv, allowed, &la,
			       cmd != DLOCK_CMD_SET_VALUE);
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
	if (cmd == DLOCK_CMD_RENEW)
		report_renew_cut(d, la.name, la.o.ttl_ms);
	if (cmd == DLOCK_CMD_RELEASE && json) {
		putchar('{');
		json_member(false, "name", la.name, strlen(la.name));
		printf(",\"count\":%d}\n", err);
	}
	dlock_close(d);
	return 0;
}

int cmd_unlock(int argc, char **argv)
{
	return cmd_owned(argc, argv, DLOCK_CMD_RELEASE);
}

int cmd_renew(int argc, char **argv)
{
	return cmd_owned(argc, argv, DLOCK_CMD_RENEW);
}

int cmd_set_value(int argc, char **argv)
{
	return cmd_owned(argc, argv, DLOCK_CMD_SET_VALUE);
}

int cmd_break(int argc, char **argv)
{
	static const int allowed[] = { OPT_TOKEN, 0 };
	struct lock_args la = {};
	struct dlock *d;
	int err;

	err = parse_named_args(&argc, argv, allowed, &la, true);
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
