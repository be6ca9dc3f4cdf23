// SPDX-License-Identifier: GPL-2.0
/*
 * dlockctl elect and observe: leader election from the shell, on
 * libdlock's dlock_campaign() and dlock_observe().
 */
#define _GNU_SOURCE
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "dlockctl.h"
#include "output.h"

/* As acquire_lock(), for a campaign: -v tries first to explain a wait. */
static int campaign(struct dlock *d, const struct lock_args *la,
		    const char *value, struct dlock_lease *lease)
{
	struct dlock_campaign_opts co = {
		.ttl_ms = la->o.ttl_ms,
		.wait_ms = la->o.wait_ms,
		.flags = la->o.flags & DLOCK_F_TRY,
	};
	struct dlock_campaign_opts try = co;
	int err = -EAGAIN;

	if (la->verbose && !co.flags) {
		try.flags = DLOCK_F_TRY;
		try.wait_ms = 0;	/* the kernel refuses a try with one */
		err = dlock_campaign(d, la->name, value, strlen(value), &try,
				     lease);
		if (err == -EAGAIN)
			explain_wait(d, la->name);
	}
	if (err == -EAGAIN)
		err = dlock_campaign(d, la->name, value, strlen(value), &co,
				     lease);
	if (!err && la->verbose) {
		fprintf(stderr, "%s: ", prog);
		out_text(stderr, la->name, strlen(la->name), OUT_LINE);
		fprintf(stderr, ": elected, token %" PRIu64 "\n", lease->token);
	}
	return err;
}

int cmd_elect(int argc, char **argv)
{
	static const int allowed[] = { OPT_TTL, OPT_WAIT, OPT_TRY, OPT_GRACE,
				       OPT_WAIT_W, OPT_TRY_N, OPT_CONFLICT,
				       OPT_VERBOSE, 0 };
	struct lock_args la = {};
	struct dlock_lease lease;
	const char *value;
	struct dlock *d;
	int err;

	err = parse_named_args(&argc, argv, allowed, &la, false);
	if (err)
		return err;
	if (optind >= argc)
		return usage_error("missing VALUE to publish as leader");
	value = argv[optind++];
	if (!*value || strlen(value) > DLOCK_VALUE_MAX)
		return usage_error("VALUE must be 1 to %d bytes", DLOCK_VALUE_MAX);
	if (optind >= argc)
		return usage_error("missing CMD to run as leader");

	err = run_open(&d, la.name);
	if (err)
		return err;
	err = campaign(d, &la, value, &lease);
	if (err) {
		err = acquire_failed(d, la.name, err, &la);
		dlock_close(d);
		return err;
	}
	return run_leased(d, la.name, &la, &lease, argv + optind);
}

static void print_leader(const char *name, const struct dlock_leader *l)
{
	if (json) {
		putchar('{');
		json_member(false, "name", name, strlen(name));
		printf(",\"leader\":%s", l->present ? "true" : "false");
		if (l->present) {
			out_json_u64(stdout, true, "token", l->token);
			printf(",\"uid\":%u", l->uid);
		}
		if (l->present && l->hidden)
			printf(",\"hidden\":true");
		if (l->present && !l->hidden) {
			printf(",\"pid\":%u", l->pid);
			json_member(true, "comm", l->comm,
				    strnlen(l->comm, sizeof(l->comm)));
			json_member(true, "value", l->value, l->value_len);
		}
		printf("}\n");
	} else if (l->present && l->hidden) {
		printf("(a leader of uid %u: its value is hidden from this user)\n",
		       l->uid);
	} else if (l->present) {
		out_text(stdout, l->value, l->value_len, OUT_LINE);
		putchar('\n');
	}
}

int cmd_observe(int argc, char **argv)
{
	struct lock_args la = {};
	struct dlock_observer *o;
	struct dlock_leader l;
	struct dlock *d;
	int err;

	err = open_named(argc, argv, &la, &d);
	if (err)
		return err;
	err = dlock_observe(d, la.name, &o);
	if (err) {
		err = request_failed(d, "observe", err);
		dlock_close(d);
		return err;
	}
	for (;;) {
		err = dlock_observe_next(o, -1, &l);
		if (err == -EINTR)
			continue;
		if (err < 0) {
			err = request_failed(d, "observe", err);
			break;
		}
		print_leader(la.name, &l);
		/* Each change goes out at once; a reader that left ends it. */
		if (fflush(stdout) || ferror(stdout)) {
			fprintf(stderr, "%s: observe: cannot write output: %s\n",
				prog, strerror(errno ? errno : EIO));
			err = EXIT_FAILED;
			break;
		}
	}
	dlock_observe_end(o);
	dlock_close(d);
	return err;
}
