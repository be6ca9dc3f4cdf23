/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The checker's view of a history (tests/cluster/README.md, "History
 * format"): history.c parses and pairs it, checker.c judges it.
 */
#ifndef DLOCK_CLUSTER_CHECKER_H
#define DLOCK_CLUSTER_CHECKER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum kind { K_INV, K_OK, K_FAIL, K_LOST, K_START, K_END, K_NEMESIS };
enum op { OP_NONE, OP_ACQUIRE, OP_RELEASE, OP_CLOSE };
enum { MODE_EX, MODE_SH, MODE_SEM };

/* One line of a history. */
struct ev {
	int64_t t;		/* CLOCK_MONOTONIC ns of the line */
	enum kind kind;
	enum op op;		/* inv; completions copy their invocation's */
	const char *proc;	/* p=: one client (a thread of a workload) */
	int node;
	long id;		/* pairs an invocation with its completion */
	const char *name;
	int mode;
	uint32_t permits;
	const char *owner;	/* tag:HEX (socket-bound) or det:STRING */
	bool keepalive;		/* acquire with DLOCK_F_KEEPALIVE */
	uint64_t token;		/* ok of acquire, lost */
	uint32_t ttl;		/* ok of acquire: TTL granted, ms (0: none) */
	uint32_t count;		/* ok of acquire: reentrancy count */
	int left;		/* ok of release: levels left */
	const char *err;	/* fail: errno name */
	const char *action;	/* nemesis */
	struct ev *peer;	/* invocation <-> completion */
	const char *file;
	int line;
	char *text;
};

struct proc {
	const char *name;
	int node;
	struct ev **ev;		/* in time order */
	size_t nev, cap;
	size_t nops;
	const struct ev *end;
};

/* A lease acknowledged to its holder. */
enum end_reason { END_NONE, END_RELEASE, END_CLOSE, END_LOST, END_KILLED,
		  END_TTL, END_EXIT };
struct grant {
	const struct ev *acq, *ok;
	int64_t end;			/* certainly held until here */
	enum end_reason end_reason;
	const struct ev *end_ev;
	const struct ev *lost_at;	/* the holder's lost notification */
	bool lost_late;			/* the service dropped it unannounced */
	const struct ev *late_release;	/* released OK after its TTL ran out */
};

enum vkind {
	V_EXCL_OVERLAP, V_SHARED_EXCL, V_SEM_PERMITS, V_KIND_MIX,
	V_TOKEN_ORDER, V_TOKEN_REUSED, V_LOST_GRANT, V_PHANTOM_RELEASE,
	V_UNANSWERED, V_NO_END, V_NKINDS
};

/*
 * A node kill: stamped before it began (start) and, when the log has its
 * "killed" line, after its processes were gone (done).  Lines a process
 * wrote in between are normal: it was still dying.
 */
struct kill {
	const struct ev *start;
	int64_t done;
	int node;
};

struct history {
	struct ev **ev;
	size_t nev, cap;
	struct proc **procs;
	size_t nprocs;
	struct kill *kills;		/* nemesis action=kill, one per node */
	size_t nkills;
	struct grant **grants;
	size_t ngrants, capgrants;
	size_t nfiles;
	int64_t t_min;
};

void *xcalloc(size_t n, size_t size);
int history_load(struct history *h, const char *path);
int history_pair(struct history *h);
struct grant *grant_new(struct history *h, const struct ev *acq,
			const struct ev *ok);
const char *op_name(enum op op);

#endif
