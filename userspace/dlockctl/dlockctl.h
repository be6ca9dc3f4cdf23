/* SPDX-License-Identifier: GPL-2.0 */
/*
 * What dlockctl's command files share: exit codes, messages, the parser of
 * the lock options, and the pieces run and elect have in common.
 */
#ifndef DLOCKCTL_H
#define DLOCKCTL_H

#include <signal.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "dlock.h"

/* Exit codes: stable, for scripts (dlockctl.c's head lists them). */
#define EXIT_FAILED	1
#define EXIT_USAGE	2
#define EXIT_NOMODULE	3
#define EXIT_BUSY	4
#define EXIT_LOST	5

extern bool json;
extern const char *prog;
extern const char *cmdname;

int usage_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
int open_or_explain(struct dlock **d);
int request_failed(struct dlock *d, const char *what, int err);
void text(const char *s, size_t len);
void json_member(bool comma, const char *key, const char *s, size_t len);

int parse_u64(const char *opt, const char *arg, uint64_t *out);
int parse_duration(const char *opt, const char *arg, uint32_t *ms);
int check_name(const char *what, const char *name);

/* Options shared by lock, run and elect. */
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
	int conflict_code;	/* -E: exit code when the lock is busy */
	bool verbose;		/* -v: say whom a wait is behind */
	bool linearizable;	/* get, list: read through the leader's log */
};

enum {
	OPT_SHARED = 256, OPT_PERMITS, OPT_TTL, OPT_WAIT, OPT_TRY, OPT_OWNER,
	OPT_VALUE, OPT_GRACE, OPT_TOKEN, OPT_LINEARIZABLE,
	/* flock(1)'s spellings */
	OPT_TRY_N = 'n', OPT_WAIT_W = 'w', OPT_CONFLICT = 'E',
	OPT_VERBOSE = 'v',
};

int parse_lock_args(int *pargc, char **argv, const int *allowed,
		    struct lock_args *la);
/*
 * parse_lock_args() for the commands on one lock: then takes its NAME, the
 * first operand; @last: NAME is the only operand.
 */
int parse_named_args(int *pargc, char **argv, const int *allowed,
		     struct lock_args *la, bool last);
/* Commands with no options and only a NAME: that, then the handle. */
int open_named(int argc, char **argv, struct lock_args *la, struct dlock **d);

/* A blocking wait: SIGINT, SIGTERM, SIGHUP withdraw it (exit 128+N). */
extern volatile sig_atomic_t wait_signal;
void catch_wait_signals(void);
int acquire_failed(struct dlock *d, const char *name, int err,
		   const struct lock_args *la);

/* Says on stderr that the namespace's cap cut a TTL, if it did. */
void report_ttl_cut(const char *name, uint32_t asked, uint32_t granted);

/* Acquires as @la says; -v explains a wait and reports the grant. */
int acquire_lock(struct dlock *d, struct lock_args *la,
		 struct dlock_lease *lease);

/* -v: prints to stderr whom a wait on @name is queued behind. */
void explain_wait(struct dlock *d, const char *name);

/*
 * run and elect: runs CMD (@argv) holding the lease on @name that @d holds,
 * renews it by @lease's TTL and ends CMD if the lease is lost.
 * Returns dlockctl's exit code; @d is closed.
 */
int run_leased(struct dlock *d, const char *name, const struct lock_args *la,
	       const struct dlock_lease *lease, char **argv);
/*
 * Opens the handle run and elect acquire on, with the lost-lease watch
 * run_leased() acts on and the signals that withdraw a blocking wait.
 */
int run_open(struct dlock **d, const char *name);

int cmd_status(int argc, char **argv);
int cmd_lock(int argc, char **argv);
int cmd_unlock(int argc, char **argv);
int cmd_renew(int argc, char **argv);
int cmd_set_value(int argc, char **argv);
int cmd_break(int argc, char **argv);
int cmd_get(int argc, char **argv);
int cmd_list(int argc, char **argv);
int cmd_watch(int argc, char **argv);
int cmd_config(int argc, char **argv);
int cmd_run(int argc, char **argv);
int cmd_elect(int argc, char **argv);
int cmd_observe(int argc, char **argv);
int cmd_setconf(int argc, char **argv);
int cmd_showconf(int argc, char **argv);
int cmd_cluster(int argc, char **argv);

/* "leader", "follower", ... as status and cluster print them. */
const char *cluster_role_name(enum dlock_role role);

#endif /* DLOCKCTL_H */
