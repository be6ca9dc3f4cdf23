/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Shared by the host tests of the table adapter (kmod/table_sm*.c): a few
 * adapter instances that apply the same committed entries, as the nodes of
 * a cluster do, each with its own local clock, and a dump of each one's
 * whole state to compare them by.
 */
#ifndef TEST_TABLE_SM_H
#define TEST_TABLE_SM_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tap.h"
#include "table_sm.h"

#define MS 1000000ULL
#define SEC (1000 * MS)
#define NSM 3
#define WD_MAX 4096

static const char *prefix = "";
#define T_OK(cond, fmt, ...) tap_ok(!!(cond), "%s" fmt, prefix, ##__VA_ARGS__)

struct wdrec {
	u16 node;
	u32 client;
	u64 cookie;
	int status;
	u64 token;
	u64 index;
};

struct node {
	struct table_sm *sm;
	struct wdrec wd[WD_MAX];
	int nwd;
	int nlost;
	u64 skew;		/* this node's clock minus the test's */
};

static struct node nodes[NSM];
static int nnodes = NSM;
static long live_mem;
static u64 idx;			/* index of the last entry applied */
static u64 epoch = 1;
static u64 now0 = 1000 * SEC;	/* the test's clock */
static int mismatches;		/* results that differed between nodes */

static void *f_alloc(void *ctx, size_t size)
{
	void *p = malloc(size);

	if (p)
		live_mem += size;
	return p;
}

static void f_free(void *ctx, void *p, size_t size)
{
	live_mem -= size;
	free(p);
}

static void h_wait_done(void *ctx, u16 node, u32 client, u64 cookie,
			int status, u64 token, u64 index)
{
	struct node *n = ctx;

	if (n->nwd < WD_MAX)
		n->wd[n->nwd++] = (struct wdrec){ node, client, cookie, status,
						  token, index };
}

static void h_lost(void *ctx, u16 node, u32 client, u64 tag,
		   const char *name, u32 len, u64 token, int reason)
{
	struct node *n = ctx;

	n->nlost++;
}

static const struct table_sm_hooks hooks = {
	.wait_done = h_wait_done,
	.lost = h_lost,
};

/* Limits of the tables nodes_init() makes next (user caps, slots). */
static struct table_sm_cfg sm_limits;

static struct table_sm *sm_new(struct node *n, u32 shards)
{
	struct table_sm_cfg cfg = {
		.nr_shards = shards, .hash_seed = 0x5eed,
		.max_leases = sm_limits.max_leases,
		.max_waiters = sm_limits.max_waiters,
		.max_user_leases = sm_limits.max_user_leases,
		.max_user_waiters = sm_limits.max_user_waiters,
		.user_slots = sm_limits.user_slots,
		.drift_ppm = 1000,
		.alloc = f_alloc, .free = f_free,
		.hooks = &hooks, .hctx = n,
	};

	return table_sm_create(&cfg);
}

static void nodes_init(int n, u32 shards)
{
	int i;

	nnodes = n;
	idx = 0;
	mismatches = 0;
	for (i = 0; i < n; i++) {
		memset(&nodes[i], 0, sizeof(nodes[i]));
		nodes[i].skew = (u64)i * 7 * MS;	/* clocks differ */
		nodes[i].sm = sm_new(&nodes[i], shards);
	}
}

static void nodes_fini(void)
{
	int i;

	for (i = 0; i < nnodes; i++)
		table_sm_destroy(nodes[i].sm);
}

/* The log's token of an entry: increasing with the index and the epoch. */
static u64 log_token(u64 index)
{
	return epoch << 40 | index;
}

/* One committed entry, applied by every node; node 0's result. */
static struct repl_result apply_all(const struct repl_cmd *c)
{
	struct repl_result r0, r;
	int i;

	idx++;
	for (i = 0; i < nnodes; i++) {
		table_sm_ops.apply(nodes[i].sm, c, idx, log_token(idx),
				   now0 + nodes[i].skew, &r);
		if (!i)
			r0 = r;
		else if (memcmp(&r, &r0, sizeof(r)))
			mismatches++;
	}
	return r0;
}

static struct repl_cmd the_cmd;

static struct repl_cmd *mk(u8 op, u16 node, u32 client,
			   const struct tsm_body *b, u64 ttl)
{
	static u32 req;

	memset(&the_cmd, 0, offsetof(struct repl_cmd, data));
	if (tsm_encode(&the_cmd, op, node, client, ++req, b))
		abort();
	the_cmd.ttl = ttl;
	the_cmd.hold = ttl + ttl / 100;	/* the core's margin */
	return &the_cmd;
}

static int run(u8 op, u16 node, u32 client, const struct tsm_body *b,
	       u64 ttl, struct repl_result *out)
{
	struct repl_result r = apply_all(mk(op, node, client, b, ttl));

	if (out)
		*out = r;
	return r.status;
}

#define BODY(...) (&(struct tsm_body){ __VA_ARGS__ })
#define NAME(s) .name = (s), .name_len = sizeof(s) - 1

/* ---- state dump --------------------------------------------------------- */

struct dumpbuf {
	char *p;
	size_t len, cap;
};

static void dput(struct dumpbuf *d, const char *fmt, ...)
{
	va_list ap;
	int n;

	for (;;) {
		va_start(ap, fmt);
		n = vsnprintf(d->p + d->len, d->cap - d->len, fmt, ap);
		va_end(ap);
		if ((size_t)n < d->cap - d->len)
			break;
		d->cap = d->cap * 2 + n + 64;
		d->p = realloc(d->p, d->cap);
	}
	d->len += n;
}

static void dump_entry(struct dumpbuf *d, struct dl_table *t,
		       const struct dl_entry *e)
{
	struct dl_entry_info in;

	dl_entry_info(t, e, 0, &in);
	dput(d, " [%c m%d s%llx t%llx o'%.*s' u%u tok%llx c%u ck%llx st%llu h%u w%u n%d v'%.*s']",
	     in.waiter ? 'W' : 'H', in.mode,
	     (unsigned long long)in.owner.session_id,
	     (unsigned long long)in.owner.tag, in.owner.len,
	     in.owner.str ? in.owner.str : "", in.owner.uid,
	     (unsigned long long)in.token, in.count,
	     (unsigned long long)in.cookie, (unsigned long long)in.stamp,
	     in.hold_ms, in.wait_ms, in.no_ttl, (int)in.value_len,
	     in.value ? (const char *)in.value : "");
}

/* Everything replicated, nothing local (deadlines): equal on every node. */
static char *dump(struct table_sm *sm)
{
	struct dl_table *t = table_sm_table(sm);
	struct dumpbuf d = { malloc(256), 0, 256 };
	struct dl_table_stats st;
	const struct dl_lock *l;
	struct dl_cursor c;

	dl_table_stats(t, &st);
	dput(&d, "idx %llu digest %llx last %llx sess %u leases %ld waiters %ld locks %ld\n",
	     (unsigned long long)table_sm_index(sm),
	     (unsigned long long)table_sm_digest(sm),
	     (unsigned long long)table_sm_last_token(sm),
	     table_sm_sessions(sm), st.leases, st.waiters, st.locks);
	dl_cursor_init(&c);
	do {
		while ((l = dl_dump_next(t, &c))) {
			struct dl_lock_info li;
			const struct dl_entry *e;

			dl_lock_info(l, &li);
			dput(&d, "%.*s m%d p%u x%d:", li.name_len, li.name,
			     li.mode, li.permits, dl_lock_excl_unknown(l));
			for (e = dl_holder_next(l, NULL); e;
			     e = dl_holder_next(l, e))
				dump_entry(&d, t, e);
			for (e = dl_waiter_next(l, NULL); e;
			     e = dl_waiter_next(l, e))
				dump_entry(&d, t, e);
			dput(&d, "\n");
		}
	} while (dl_cursor_next_shard(t, &c));
	return d.p;
}

/* Every node has node 0's state, and every table is consistent. */
static int nodes_equal(void)
{
	char *a = dump(nodes[0].sm);
	int i, ok = !mismatches;

	for (i = 0; i < nnodes; i++) {
		char *b = dump(nodes[i].sm);

		ok &= !strcmp(a, b);
		ok &= dl_table_check(table_sm_table(nodes[i].sm)) == 0;
		ok &= nodes[i].nwd == nodes[0].nwd &&
		      !memcmp(nodes[i].wd, nodes[0].wd,
			      sizeof(nodes[0].wd[0]) * nodes[0].nwd);
		if (!ok && getenv("TSM_DEBUG"))
			fprintf(stderr, "node 0:\n%s\nnode %d:\n%s\n", a, i, b);
		free(b);
	}
	free(a);
	return ok;
}

/* Node @to takes node @from's snapshot, as a follower catching up does. */
static int transfer(int from, int to, u64 now)
{
	struct table_sm *f = nodes[from].sm;
	u64 cap = table_sm_ops.save_size(f);
	u8 *buf = malloc(cap ? cap : 1);
	s64 n = table_sm_ops.save(f, buf, cap);
	int err = n < 0 ? (int)n :
		  table_sm_ops.load(nodes[to].sm, buf, (u64)n, now);

	free(buf);
	/* The answers before the snapshot were given: its history is node's. */
	if (!err) {
		memcpy(nodes[to].wd, nodes[from].wd, sizeof(nodes[0].wd));
		nodes[to].nwd = nodes[from].nwd;
	}
	return err;
}

#endif /* TEST_TABLE_SM_H */
