// SPDX-License-Identifier: GPL-2.0
/*
 * dlockctl: command-line client of dlock.
 *
 * Exit codes (stable, for scripts):
 *   0  success
 *   1  the request failed (the kernel refused it or it could not be sent)
 *   2  usage error (unknown command or option, bad argument)
 *   3  the dlock module is not loaded
 */
#include <errno.h>
#include <getopt.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dlock.h"

#define EXIT_FAILED	1
#define EXIT_USAGE	2
#define EXIT_NOMODULE	3

static bool json;
static const char *prog = "dlockctl";

struct command {
	const char *name;
	int (*run)(int argc, char **argv);
	const char *usage;
	const char *help;
};

static int usage_error(const char *fmt, const char *arg)
{
	fprintf(stderr, "%s: ", prog);
	fprintf(stderr, fmt, arg);
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
	fprintf(stderr, "%s: %s: %s\n", prog, what, dlock_strerror(d, err));
	return EXIT_FAILED;
}

/* Prints a JSON string literal; only ASCII control characters need escapes. */
static void json_string(const char *s)
{
	putchar('"');
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;

		if (c == '"' || c == '\\')
			printf("\\%c", c);
		else if (c < 0x20)
			printf("\\u%04x", c);
		else
			putchar(c);
	}
	putchar('"');
}

static int cmd_status(int argc, char **argv)
{
	struct dlock_status st;
	struct dlock *d;
	int err;

	(void)argv;
	if (argc > 1)
		return usage_error("status: unexpected argument '%s'", argv[1]);
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
		printf(",\"leases\":%llu,\"waiters\":%llu,\"requests\":%llu,\"netns_cookie\":%llu}\n",
		       (unsigned long long)st.leases,
		       (unsigned long long)st.waiters,
		       (unsigned long long)st.requests,
		       (unsigned long long)st.netns_cookie);
	} else {
		printf("version: %s\nleases: %llu\nwaiters: %llu\nrequests: %llu\nnetns cookie: %llu\n",
		       st.version, (unsigned long long)st.leases,
		       (unsigned long long)st.waiters,
		       (unsigned long long)st.requests,
		       (unsigned long long)st.netns_cookie);
	}
	dlock_close(d);
	return 0;
}

static const struct command commands[] = {
	{ "status", cmd_status, "status",
	  "show the module version and this network namespace's counters" },
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
		fprintf(f, "  %-14s %s\n", commands[i].usage, commands[i].help);
	fprintf(f, "\nExit codes: 0 ok, 1 request failed, 2 usage error, 3 module not loaded.\n");
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
		return usage_error("%s", "no command given");
	for (i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
		if (!strcmp(argv[optind], commands[i].name))
			return commands[i].run(argc - optind, argv + optind);
	return usage_error("unknown command '%s'", argv[optind]);
}
