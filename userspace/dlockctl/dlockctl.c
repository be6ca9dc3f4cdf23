// SPDX-License-Identifier: GPL-2.0
/*
 * dlockctl: command-line client of dlock.
 *
 * Exit codes (stable, for scripts):
 *   0  success
 *   1  the request failed (the kernel refused it or it could not be sent)
 *   2  usage error (unknown command or option, bad argument)
 *   3  the dlock module is not loaded
 *   4  the lock is busy: --try found it held, or --wait ran out (-E CODE
 *      chooses another code, as in flock(1))
 *   5  run, elect: the lease was lost (expired or broken) and CMD was
 *      terminated
 * `run` and `elect` otherwise exit with CMD's status (128+N when a signal N
 * ended it).  A signal N that interrupts a wait (lock, run, elect)
 * withdraws it: exit 128+N.
 * Output that cannot be written (a full disk, a closed pipe) is exit 1.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dlockctl.h"
#include "metrics.h"
#include "output.h"

bool json;
const char *prog = "dlockctl";
const char *cmdname = "";

struct command {
	const char *name;
	int (*run)(int argc, char **argv);
	const char *usage;
	const char *help;
};

int usage_error(const char *fmt, ...)
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
int open_or_explain(struct dlock **d)
{
	int err = dlock_open(d);

	if (!err)
		return 0;
	fprintf(stderr, "%s: %s\n", prog, dlock_strerror(NULL, err));
	if (err == -ENOENT) {
		/* An installed module loads on first use: this one is not. */
		fprintf(stderr, "%s: install it (the dlock-dkms package, or 'make install'), or load a built one with 'insmod dlock.ko'\n",
			prog);
		return EXIT_NOMODULE;
	}
	return EXIT_FAILED;
}

int request_failed(struct dlock *d, const char *what, int err)
{
	const char *msg = dlock_strerror(d, err);

	/*
	 * The kernel's own words when it gave some: a cluster node's
	 * "no answer in time ... may still take effect" is no wait that ran
	 * out.
	 */
	if (err == -ETIMEDOUT && !strcmp(msg, strerror(ETIMEDOUT)))
		msg = "timed out waiting for the lock";
	else if (err == -EINTR)
		msg = "interrupted; the wait was withdrawn";

	fprintf(stderr, "%s: ", prog);
	out_text(stderr, what, strlen(what), OUT_LINE);	/* a lock name */
	fprintf(stderr, ": %s\n", msg);
	return err == -EAGAIN || err == -ETIMEDOUT ? EXIT_BUSY : EXIT_FAILED;
}

/* Other users choose names, owners, values: print them escaped. */
void text(const char *s, size_t len)
{
	out_text(stdout, s, len, OUT_WORD);
}

void json_member(bool comma, const char *key, const char *s, size_t len)
{
	out_json_member(stdout, comma, key, s, len);
}

/* ---- status ----------------------------------------------------------- */

static bool prometheus;	/* `metrics`: status in the Prometheus format */

int cmd_status(int argc, char **argv)
{
	struct dlock_cluster *cl = NULL;
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
	/* A module without cluster support says so: status leaves it out. */
	if (!prometheus && dlock_get_cluster(d, &cl))
		cl = NULL;
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
		if (cl)
			printf(",\"role\":\"%s\"", cluster_role_name(cl->role));
		if (cl && cl->id)
			printf(",\"node\":%u", cl->id);
		printf("}\n");
	} else {
		printf("version: %s\nleases: %" PRIu64 "\nwaiters: %" PRIu64
		       "\nrequests: %" PRIu64 "\nnetns cookie: %" PRIu64
		       "\nmemory: %" PRIu64 " bytes\n",
		       st.version, st.leases, st.waiters, st.requests,
		       st.netns_cookie, st.memory);
		metrics_status_text(stdout, &st);
		if (cl && cl->id)
			printf("role: %s\nnode: %u\n",
			       cluster_role_name(cl->role), cl->id);
	}
	dlock_cluster_free(cl);
	dlock_close(d);
	return 0;
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
	  "lock NAME --ttl DURATION [--shared|--permits N] [--wait DURATION|-w SECONDS|--try|-n] [-E CODE] [-v] [--owner STR] [--value STR]",
	  "take a detached lease; prints its owner and token" },
	{ "unlock", cmd_unlock, "unlock NAME --owner STR",
	  "release a detached lease (one reentrancy level)" },
	{ "renew", cmd_renew, "renew NAME --owner STR --ttl DURATION",
	  "restart a detached lease's TTL" },
	{ "set-value", cmd_set_value, "set-value NAME --owner STR VALUE",
	  "attach a value (up to 1 KiB) to a held lease" },
	{ "get", cmd_get, "get [--linearizable] NAME", "show a lock's holders, waiters and value" },
	{ "list", cmd_list, "list [--linearizable] [PREFIX]", "show every lock (with PREFIX)" },
	{ "watch", cmd_watch, "watch [PREFIX]", "print lock events as they happen" },
	{ "break", cmd_break, "break NAME [--token T]",
	  "end a lease by force (CAP_NET_ADMIN)" },
	{ "config", cmd_config,
	  "config [set [--max-ttl DURATION] [--max-leases N] [--max-waiters N] [--max-socket-leases N] [--max-socket-waiters N] [--max-user-leases N|auto] [--max-user-waiters N|auto] [--max-user-value-bytes N|auto]]",
	  "show or change this namespace's limits (set: CAP_NET_ADMIN)" },
	{ "run", cmd_run,
	  "run NAME [--shared|--permits N] [--ttl DURATION] [--wait DURATION|-w SECONDS|--try|-n] [-E CODE] [-v] [--grace DURATION] [--value STR] -- CMD...",
	  "run CMD holding the lock; DLOCK_TOKEN is set for it" },
	{ "elect", cmd_elect,
	  "elect NAME VALUE [--ttl DURATION] [--wait DURATION|-w SECONDS|--try|-n] [-E CODE] [-v] [--grace DURATION] -- CMD...",
	  "campaign for leadership of NAME, then run CMD as leader with VALUE published" },
	{ "observe", cmd_observe, "observe NAME",
	  "print the leader's value of election NAME each time it changes" },
	{ "setconf", cmd_setconf, "setconf FILE",
	  "configure this node's cluster from FILE (- for stdin; CAP_NET_ADMIN)" },
	{ "showconf", cmd_showconf, "showconf",
	  "print the cluster configuration in force, as a file setconf reads" },
	{ "cluster", cmd_cluster, "cluster [leave|genkey]",
	  "this node's role, leader, term, keys and peers; leave: back to single-node mode; genkey: a new cluster key" },
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
	fprintf(f, "\nA DURATION is seconds, or takes a unit: 250ms, 1.5s, 0.25, 2m, 1h.\n"
		"--wait 0 (or no --wait) waits without limit; -w 0 does not wait, as in flock(1).\n"
		"Exit codes: 0 ok, 1 request failed, 2 usage error, 3 module not loaded,\n"
		"4 lock busy (--try, or --wait ran out; -E CODE changes it),\n"
		"5 run, elect: lease lost, CMD terminated; run and elect otherwise exit\n"
		"with CMD's status; a signal N during a wait: 128+N.\n");
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

