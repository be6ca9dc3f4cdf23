/* SPDX-License-Identifier: GPL-2.0 */
/*
 * One fake of the kernel glue for the host tests of the lock table
 * (kmod/table.c), shared by every tests/host/test_table_*.c and test_uid.c.
 *
 * It backs allocation with malloc (with a header to check that every free
 * names the size and kind of its alloc, and to count memory, and can fail
 * the Nth allocation), hands out fencing tokens from a counter, records the
 * timers the table asks for and the notifications it sends, and runs a
 * command the way the module does (GLUE): with the shard lock only, then on
 * DL_NEED_GLOBAL again with the global lock, checking that the first
 * attempt changed nothing and that the table is consistent after each
 * command.  Like lockdep in the kernel, it checks that wait_done comes only
 * from a command run with the global lock.
 *
 * Each test program lists its cases in a table and hands it to fx_main():
 *   test_table_queue [--san|--tsan] [--quick] [CASE...]
 * runs the named cases alone (all of them if none is named), each from a
 * fx_reset() state, and ends with one line saying the glue's contract held.
 */
#ifndef DLOCK_TABLE_FIXTURE_H
#define DLOCK_TABLE_FIXTURE_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tap.h"
#include "table.h"

/* "asan: " / "tsan: " in front of every test name of a sanitized run. */
extern const char *prefix;
#define T_OK(cond, fmt, ...) tap_ok(!!(cond), "%s" fmt, prefix, ##__VA_ARGS__)

#define MS 1000000ULL
#define SEC (1000 * MS)
#define META_SIZE 24

/* ---- allocator ------------------------------------------------------- */

extern long live_bytes[DL_OBJ_NR], live_objs[DL_OBJ_NR];
extern long live_slab;		/* bytes rounded up to kmalloc size classes */
extern long fail_countdown;	/* fail the Nth allocation from now; -1 never */
extern unsigned int fail_kinds;	/* fail every allocation of these kinds */
extern long bad_frees;
#define FAIL_KIND(k) (1U << (k))
long live_total(void);

/* ---- notifications --------------------------------------------------- */

#define LOG_MAX 256

struct rec {
	int what;		/* 'E' event, 'W' wait done, 'L' lost */
	int type;		/* event type, wait err, lost reason */
	char name[DL_NAME_MAX + 1];
	u64 token;
	u64 cookie;
	u64 sess;
	u64 tag;
	int mode;
	u32 uid;		/* events: the owner's */
};

extern struct rec logv[LOG_MAX];
extern int nlog;
extern u64 token_counter;
extern u64 armed[DL_MAX_SHARDS];
extern long timer_calls;
/* Sees every record, also those past LOG_MAX (model checker, counters). */
extern void (*on_rec)(const struct rec *r);
extern const struct dl_table_ops ops;
/* ops' members, for tests that wrap some of them in ops of their own. */
void *t_alloc(void *priv, enum dl_obj kind, size_t size);
void t_free(void *priv, enum dl_obj kind, void *p, size_t size);
u64 t_next_token(struct dl_cmd *cx);
void t_set_timer(struct dl_cmd *cx, u32 shard, u64 deadline);
void t_wait_done(struct dl_cmd *cx, const struct dl_wait_done *wd);
void t_lost(struct dl_cmd *cx, const struct dl_lost *ls);
void t_event(struct dl_cmd *cx, const struct dl_event *ev);

void log_reset(void);
int log_count(int what, int type);
const struct rec *log_find(int what, int type, const char *name);

/* ---- glue mimic ------------------------------------------------------ */

extern u64 now;
extern long global_retries;
extern int nerr;		/* contract violations seen by the glue mimic */
extern bool check_each;	/* dl_table_check() after every GLUE command */
extern bool fx_quick;		/* --quick: skip or shorten the slow cases */

void armed_reset(void);
struct dl_table *mk_table(u32 shards, u32 max_ttl_ms);
struct dl_table *mk_table_cfg(struct dl_table_config *cfg);
void glue_checked(struct dl_table *t, int line);

/*
 * Runs @call the way the glue does: first with only the shard lock; on
 * DL_NEED_GLOBAL again with the global lock.  The first attempt must have
 * changed nothing: same generation, same counters, no notification.
 */
#define GLUE(t, call) ({						\
	struct dl_cmd cx = { .now = now, .global = false };		\
	struct dl_table_stats s0, s1;					\
	u64 g0 = dl_table_generation(t);				\
	int n0 = nlog, rc;						\
	dl_table_stats(t, &s0);						\
	rc = call;							\
	if (rc == DL_NEED_GLOBAL) {					\
		dl_table_stats(t, &s1);					\
		if (g0 != dl_table_generation(t) || nlog != n0 ||	\
		    s0.leases != s1.leases || s0.waiters != s1.waiters)	\
			nerr++, fprintf(stderr, "# NEED_GLOBAL changed state at line %d\n", __LINE__); \
		global_retries++;					\
		cx.global = true;					\
		rc = call;						\
	}								\
	glue_checked(t, __LINE__);					\
	rc;								\
})

int acq_full(struct dl_table *t, struct dl_session *s, u64 tag,
	     const char *name, int mode, u32 permits, u32 flags, u32 ttl,
	     u32 wait, u64 cookie, const char *owner,
	     struct dl_acquire_res *res);
/* Socket-bound exclusive/shared acquire, TTL 10 s, try. */
int try_lock(struct dl_table *t, struct dl_session *s, u64 tag,
	     const char *name, int mode, struct dl_acquire_res *res);
int wait_lock(struct dl_table *t, struct dl_session *s, u64 tag,
	      const char *name, int mode, u64 cookie);
int unlock(struct dl_table *t, struct dl_session *s, u64 tag,
	   const char *name);
int unlock_detached(struct dl_table *t, const char *owner, const char *name);
int renew(struct dl_table *t, struct dl_owner_ref *o, const char *name,
	  u32 ttl);
void run_timers(struct dl_table *t);
void end_session(struct dl_table *t, struct dl_session *s);
u32 holders(struct dl_table *t, const char *name);
u32 waiters(struct dl_table *t, const char *name);
/* Info of the holder with the given owner; false if none. */
bool holder_info(struct dl_table *t, const char *name, u64 sid, u64 tag,
		 struct dl_entry_info *out);
void finish(struct dl_table *t, struct dl_session **ss, int n);
int check_ok(struct dl_table *t);
u64 rnd(void);

/* ---- cases ----------------------------------------------------------- */

struct fx_case {
	const char *name;
	void (*run)(void);
};

/* Forgets what the last case left: log, timers, failures, hooks, clock. */
void fx_reset(void);
/* Runs the cases argv names, or all; non-zero: bad arguments. */
int fx_run_cases(int argc, char **argv, const struct fx_case *cases, int n);
/* No glue contract broken, nothing leaked, no free mismatched (says why). */
bool fx_harness_ok(void);

/* In the test's own file: tap.h counts per compilation unit. */
#define FX_MAIN(cases)							\
int main(int argc, char **argv)						\
{									\
	int rc = fx_run_cases(argc, argv, cases, ARRAY_SIZE(cases));	\
									\
	if (rc)								\
		return rc;						\
	T_OK(fx_harness_ok(),						\
	     "harness: glue contract kept, no leaks, no mismatched frees"); \
	return tap_done();						\
}

#endif /* DLOCK_TABLE_FIXTURE_H */
