// SPDX-License-Identifier: GPL-2.0
/*
 * dlockctl: the commands that only look: get, list and watch.
 */
#include <errno.h>
#include <getopt.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>

#include "dlockctl.h"
#include "output.h"

int cmd_get(int argc, char **argv)
{
	static const int allowed[] = { OPT_LINEARIZABLE, 0 };
	struct lock_args la = {};
	struct dlock_lock_info *li;
	struct dlock *d;
	int err;

	err = parse_named_args(&argc, argv, allowed, &la, true);
	if (!err)
		err = open_or_explain(&d);
	if (err)
		return err;
	dlock_set_linearizable(d, la.linearizable);
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

/* Arguments of list (@allowed: --linearizable) and watch: an optional PREFIX. */
static int parse_prefix_args(int argc, char **argv, const int *allowed,
			     struct lock_args *la, const char **prefix)
{
	int err;

	*prefix = NULL;
	err = parse_lock_args(&argc, argv, allowed, la);
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

int cmd_list(int argc, char **argv)
{
	static const int allowed[] = { OPT_LINEARIZABLE, 0 };
	struct lock_args la = {};
	const char *prefix;
	struct dlock *d;
	int err, n = 0;

	err = parse_prefix_args(argc, argv, allowed, &la, &prefix);
	if (err)
		return err;
	err = open_or_explain(&d);
	if (err)
		return err;
	dlock_set_linearizable(d, la.linearizable);
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

int cmd_watch(int argc, char **argv)
{
	static const int allowed[] = { 0 };
	struct lock_args la = {};
	const char *prefix;
	struct pollfd p;
	struct dlock *d;
	int err;

	err = parse_prefix_args(argc, argv, allowed, &la, &prefix);
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
