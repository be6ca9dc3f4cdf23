// SPDX-License-Identifier: GPL-2.0
/*
 * dlockctl run: CMD under a lock, like flock(1); and the supervision of
 * CMD that elect shares (renewal, signals, loss of the lease).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/signalfd.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "dlockctl.h"

#define max(a, b) ((a) > (b) ? (a) : (b))

struct run_state {
	const char *name;
	bool lost;
	enum dlock_lost_reason reason;
};

/* One lease per dlockctl: run's or elect's. */
static struct run_state run_state;

static void run_lost(struct dlock *d, const struct dlock_lost *ls, void *arg)
{
	struct run_state *rs = arg;

	(void)d;
	if (strcmp(ls->name, rs->name))
		return;
	rs->lost = true;
	rs->reason = ls->reason;
}

static const char *lost_why(enum dlock_lost_reason reason)
{
	switch (reason) {
	case DLOCK_LOST_BROKEN:
		return "was broken";
	case DLOCK_LOST_IN_DOUBT:
		return "is in doubt (this node lost the cluster)";
	default:
		return "expired";
	}
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
		fprintf(stderr, "%s: %s: cannot hand the lease to CMD: %s\n",
			prog, cmdname, strerror(-err));
		_exit(127);
	}
	snprintf(buf, sizeof(buf), "%d", dlock_fd(d));
	setenv("DLOCK_FD", buf, 1);
	snprintf(buf, sizeof(buf), "%" PRIu64, token);
	setenv("DLOCK_TOKEN", buf, 1);
	sigprocmask(SIG_SETMASK, oldmask, NULL);
	execvp(argv[0], argv);
	fprintf(stderr, "%s: %s: cannot execute '%s': %s\n", prog, cmdname,
		argv[0], strerror(errno));
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
			fprintf(stderr, "%s: %s: lease on %s %s; terminating CMD\n",
				prog, cmdname, rs->name,
				lost_why(rs->reason));
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

int run_open(struct dlock **d, const char *name)
{
	int err = open_or_explain(d);

	if (err)
		return err;
	run_state.name = name;
	dlock_on_lost(*d, run_lost, &run_state);
	catch_wait_signals();
	return 0;
}

int run_leased(struct dlock *d, const char *name, const struct lock_args *la,
	       const struct dlock_lease *lease, char **argv)
{
	sigset_t mask, oldmask;
	pid_t child;
	int err, sfd;

	report_ttl_cut(name, la->o.ttl_ms, lease->ttl_ms);
	sigemptyset(&mask);
	sigaddset(&mask, SIGCHLD);
	sigaddset(&mask, SIGINT);
	sigaddset(&mask, SIGTERM);
	sigaddset(&mask, SIGHUP);
	sigaddset(&mask, SIGQUIT);
	sigprocmask(SIG_BLOCK, &mask, &oldmask);
	sfd = signalfd(-1, &mask, SFD_CLOEXEC);
	if (sfd < 0) {
		fprintf(stderr, "%s: %s: signalfd: %s\n", prog, cmdname,
			strerror(errno));
		dlock_close(d);
		return EXIT_FAILED;
	}
	child = run_child(d, argv, lease->token, &oldmask);
	if (child < 0) {
		fprintf(stderr, "%s: %s: fork: %s\n", prog, cmdname,
			strerror(errno));
		close(sfd);
		dlock_close(d);
		return EXIT_FAILED;
	}
	err = run_supervise(d, &run_state, child, sfd, la, lease);
	close(sfd);
	/* Releases the lease, unless processes CMD left behind still hold it. */
	dlock_close(d);
	return err;
}

int cmd_run(int argc, char **argv)
{
	static const int allowed[] = { OPT_SHARED, OPT_PERMITS, OPT_TTL,
				       OPT_WAIT, OPT_TRY, OPT_GRACE, OPT_VALUE,
				       OPT_WAIT_W, OPT_TRY_N, OPT_CONFLICT,
				       OPT_VERBOSE, 0 };
	struct lock_args la = {};
	struct dlock_lease lease;
	struct dlock *d;
	int err;

	err = parse_named_args(&argc, argv, allowed, &la, false);
	if (err)
		return err;
	if (optind >= argc)
		return usage_error("missing CMD to run under the lock");
	/* Without a TTL the lease lives exactly as long as dlockctl. */
	if (!la.have_ttl)
		la.o.flags |= DLOCK_F_NO_TTL;

	err = run_open(&d, la.name);
	if (err)
		return err;
	err = acquire_lock(d, &la, &lease);
	if (err) {
		err = acquire_failed(d, la.name, err, &la);
		dlock_close(d);
		return err;
	}
	if (la.value && dlock_set_value(d, la.name, NULL, la.value,
					strlen(la.value)) < 0)
		fprintf(stderr, "%s: run: --value: %s\n", prog,
			dlock_strerror(d, -EIO));
	return run_leased(d, la.name, &la, &lease, argv + optind);
}
