// SPDX-License-Identifier: GPL-2.0
/*
 * dlockctl config: show or change the limits of this network namespace.
 */
#define _GNU_SOURCE
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "dlockctl.h"

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
			err = parse_duration("--max-ttl", optarg, &c->max_ttl_ms);
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

int cmd_config(int argc, char **argv)
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
