// SPDX-License-Identifier: GPL-2.0
/*
 * dlockctl: the options of the lock commands (lock, renew, run, elect, ...)
 * and the checks every command makes before it talks to the module.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dlockctl.h"
#include "duration.h"

int parse_duration(const char *opt, const char *arg, uint32_t *ms)
{
	const char *why;

	if (duration_parse(arg, ms, &why))
		return usage_error("%s: '%s' %s", opt, arg, why);
	return 0;
}

int parse_u64(const char *opt, const char *arg, uint64_t *out)
{
	char *end;

	errno = 0;
	*out = strtoull(arg, &end, 10);
	if (errno || end == arg || *end || *arg == '-')
		return usage_error("%s: '%s' is not a number", opt, arg);
	return 0;
}

int check_name(const char *what, const char *name)
{
	size_t len = strlen(name);

	if (len == 0)
		return usage_error("%s is empty", what);
	if (len > DLOCK_NAME_MAX)
		return usage_error("%s is %zu bytes long (at most %d)", what,
				   len, DLOCK_NAME_MAX);
	return 0;
}

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
	{ "conflict-exit-code", required_argument, NULL, OPT_CONFLICT },
	{ "verbose", no_argument, NULL, OPT_VERBOSE },
	{ "linearizable", no_argument, NULL, OPT_LINEARIZABLE },
	{ NULL, 0, NULL, 0 },
};

/* How an option was spelled, for messages: "--wait" or "-w". */
static const char *opt_name(int c, int longindex)
{
	static char buf[32];

	if (longindex >= 0)
		snprintf(buf, sizeof(buf), "--%s", lock_opts[longindex].name);
	else
		snprintf(buf, sizeof(buf), "-%c", c);
	return buf;
}

static int parse_one(int c, const char *arg, struct lock_args *la)
{
	uint64_t v;
	int err = 0;

	switch (c) {
	case OPT_SHARED:
		la->o.mode = DLOCK_MODE_SHARED;
		la->have_shared = true;
		break;
	case OPT_PERMITS:
		err = parse_u64("--permits", arg, &v);
		if (!err && (v < 1 || v > UINT32_MAX))
			err = usage_error("--permits: must be at least 1");
		la->o.mode = DLOCK_MODE_SEMAPHORE;
		la->o.permits = (uint32_t)v;
		la->have_permits = true;
		break;
	case OPT_TTL:
		err = parse_duration("--ttl", arg, &la->o.ttl_ms);
		if (!err && !la->o.ttl_ms)
			err = usage_error("--ttl: must be above zero");
		la->have_ttl = true;
		break;
	case OPT_WAIT:
		err = parse_duration("--wait", arg, &la->o.wait_ms);
		la->have_wait = true;
		break;
	case OPT_WAIT_W:
		/* flock(1): -w 0 does not wait at all, unlike --wait 0. */
		err = parse_duration("-w", arg, &la->o.wait_ms);
		if (!err && !la->o.wait_ms)
			la->o.flags |= DLOCK_F_TRY;
		else
			la->have_wait = true;
		break;
	case OPT_TRY:
	case OPT_TRY_N:
		la->o.flags |= DLOCK_F_TRY;
		break;
	case OPT_OWNER:
		la->owner = arg;
		if (!*arg || strlen(arg) > DLOCK_OWNER_MAX)
			err = usage_error("--owner: must be 1 to %d bytes",
					  DLOCK_OWNER_MAX);
		break;
	case OPT_VALUE:
		la->value = arg;
		if (strlen(arg) > DLOCK_VALUE_MAX)
			err = usage_error("--value: at most %d bytes",
					  DLOCK_VALUE_MAX);
		break;
	case OPT_GRACE:
		err = parse_duration("--grace", arg, &la->grace_ms);
		break;
	case OPT_TOKEN:
		err = parse_u64("--token", arg, &la->token);
		la->have_token = true;
		break;
	case OPT_CONFLICT:
		err = parse_u64("-E", arg, &v);
		if (!err && v > 255)
			err = usage_error("-E: '%s' is not an exit code (0 to 255)",
					  arg);
		la->conflict_code = (int)v;
		break;
	case OPT_VERBOSE:
		la->verbose = true;
		break;
	case OPT_LINEARIZABLE:
		la->linearizable = true;
		break;
	}
	return err;
}

/*
 * Parses the options of a subcommand; @allowed lists the OPT_* it takes.
 * Options may come before or after the operands; afterwards argv[1] up to
 * *pargc holds the operands in order and optind is 1.
 */
int parse_lock_args(int *pargc, char **argv, const int *allowed,
		    struct lock_args *la)
{
	int argc = *pargc;
	int c, i, err, nops = 1, li = -1;
	bool ok;

	la->conflict_code = EXIT_BUSY;
	/* Options may follow the operands; "--" ends them (run's CMD). */
	optind = 0;
	opterr = 0;
	while ((c = getopt_long(argc, argv, "-:nw:E:v", lock_opts, &li)) != -1) {
		if (c == 1) {
			/* An operand, in order: keep it for the caller. */
			argv[nops++] = optarg;
			continue;
		}
		if (c == '?' || c == ':')
			return usage_error("%s '%s'%s",
					   c == ':' ? "missing value of option" :
					   "unknown option", argv[optind - 1],
					   strcmp(cmdname, "run") &&
					   strcmp(cmdname, "elect") ? "" :
					   " (put -- before CMD and its options)");
		for (ok = false, i = 0; allowed[i]; i++)
			ok |= allowed[i] == c;
		if (!ok)
			return usage_error("option '%s' does not apply here",
					   opt_name(c, li));
		li = -1;
		err = parse_one(c, optarg, la);
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

int parse_named_args(int *pargc, char **argv, const int *allowed,
		     struct lock_args *la, bool last)
{
	int err = parse_lock_args(pargc, argv, allowed, la);

	if (err)
		return err;
	if (optind >= *pargc)
		return usage_error("missing lock NAME");
	la->name = argv[optind++];
	if (last && optind < *pargc)
		return usage_error("unexpected argument '%s'", argv[optind]);
	return check_name("lock NAME", la->name);
}

int open_named(int argc, char **argv, struct lock_args *la, struct dlock **d)
{
	static const int allowed[] = { 0 };
	int err = parse_named_args(&argc, argv, allowed, la, true);

	return err ? err : open_or_explain(d);
}
