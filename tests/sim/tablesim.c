// SPDX-License-Identifier: GPL-2.0
/* The real table behind the simulator: tablesim.h. */
#include <stdio.h>
#include <stdlib.h>
#include "tablesim.h"

#define TS_SHARDS	4
#define TS_SEED		0x51b

u64 tablesim_ended_refused;
static u64 gen_next;	/* tablesim.gen: unique across nodes and seeds */

static void *t_alloc(void *ctx, size_t size)
{
	(void)ctx;
	return malloc(size);
}

static void t_free(void *ctx, void *p, size_t size)
{
	(void)ctx;
	(void)size;
	free(p);
}

static void t_applied(void *ctx, u64 index, u64 digest)
{
	struct tablesim *ts = ctx;

	if (ts->on_digest)
		ts->on_digest(ts->hctx, index, digest);
}

static void t_wait_done(void *ctx, u16 node, u32 client, u64 cookie,
			int status, u64 token, u64 index)
{
	struct tablesim *ts = ctx;
	struct ts_wd w = { node, client, cookie, status, token };

	if (ts->nev < TS_EV_MAX)
		ts->ev[ts->nev++] = w;
	if (ts->on_wait_done)
		ts->on_wait_done(ts->hctx, &w, index);
}

static void t_unanswered(void *ctx)
{
	struct tablesim *ts = ctx;

	if (ts->on_unanswered)
		ts->on_unanswered(ts->hctx);
}

static const struct table_sm_hooks hooks = {
	.applied = t_applied, .wait_done = t_wait_done, .unanswered = t_unanswered,
};

static struct table_sm *create(void *hctx, u32 drift_ppm)
{
	struct table_sm_cfg cfg = {
		.nr_shards = TS_SHARDS, .hash_seed = TS_SEED,
		.drift_ppm = drift_ppm,
		.alloc = t_alloc, .free = t_free, .hooks = &hooks,
		.hctx = hctx,
	};

	return table_sm_create(&cfg);
}

int tablesim_init(struct tablesim *ts, u32 drift_ppm)
{
	ts->nev = 0;
	ts->gen = ++gen_next;
	ts->tsm = create(ts, drift_ppm);
	return ts->tsm ? 0 : -ENOMEM;
}

void tablesim_fini(struct tablesim *ts)
{
	if (ts->tsm)
		table_sm_destroy(ts->tsm);
	ts->tsm = NULL;
}

/* Configuration, not behaviour: which shard the table puts a name in. */
u32 tablesim_shard_of(u32 k)
{
	static struct table_sm *t;
	static int shard[TS_LOCKS] = { -1, -1, -1, -1 };
	char name[16];
	u32 len;

	if (k >= TS_LOCKS)
		return 0;
	if (shard[k] < 0) {
		if (!t)
			t = create(NULL, 0);
		if (!t) {
			fprintf(stderr, "tablesim: no memory\n");
			exit(2);
		}
		len = ts_lock_name(name, k);
		shard[k] = (int)dl_shard_of(table_sm_table(t), name, len);
	}
	return (u32)shard[k];
}

static const struct dl_lock *lookup(struct tablesim *ts, u32 k)
{
	char name[16];
	u32 len = ts_lock_name(name, k);

	return dl_lookup(table_sm_table(ts->tsm), name, len);
}

u64 tablesim_state(struct tablesim *ts, u64 index)
{
	struct dl_table *t = table_sm_table(ts->tsm);
	const struct dl_entry *e;
	const struct dl_lock *l;
	struct dl_entry_info in;
	struct dl_lock_info li;
	u64 d = 0;
	u32 k;

	for (k = 0; k < TS_LOCKS; k++) {
		l = lookup(ts, k);
		if (!l)
			continue;
		dl_lock_info(l, &li);
		d = ts_mix(ts_mix(d, k), (u64)li.permits << 32 |
			   (u64)li.nr_holders << 16 | (u64)li.nr_waiters);
		for (e = dl_holder_next(l, NULL); e; e = dl_holder_next(l, e)) {
			dl_entry_info(t, e, 0, &in);
			d = ts_mix(d, in.token);
			d = ts_mix(d, (u64)in.count << 8 | in.mode);
			d = ts_mix(d, in.stamp);
			d = ts_mix(d, in.owner.detached ?
				   ts_bytes(in.owner.str, in.owner.len) :
				   in.owner.session_id ^ in.owner.tag << 40);
			d = ts_mix(d, in.value_len ?
				   ts_bytes(in.value, in.value_len) : 0);
			if (in.stamp == index && ts->on_grant)
				ts->on_grant(ts->hctx, k, in.token);
		}
		for (e = dl_waiter_next(l, NULL); e; e = dl_waiter_next(l, e)) {
			dl_entry_info(t, e, 0, &in);
			d = ts_mix(d, in.owner.session_id);
			d = ts_mix(d, in.cookie);
			d = ts_mix(d, (u64)in.mode << 32 | in.wait_ms);
			d = ts_mix(d, in.stamp);
		}
	}
	return d;
}

/* Lock k's lease @token, as dl_entry_info() at time 0 tells it (@in). */
static bool find_token(struct tablesim *ts, u32 k, u64 token,
		       struct dl_entry_info *in)
{
	struct dl_table *t = table_sm_table(ts->tsm);
	const struct dl_lock *l = lookup(ts, k);
	const struct dl_entry *e;

	for (e = l ? dl_holder_next(l, NULL) : NULL; e; e = dl_holder_next(l, e)) {
		dl_entry_info(t, e, 0, in);
		if (in->token == token)
			return true;
	}
	return false;
}

bool tablesim_has_token(struct tablesim *ts, u32 k, u64 token)
{
	struct dl_entry_info in;

	return find_token(ts, k, token, &in);
}

int tablesim_tokens(struct tablesim *ts, u32 k, u64 *tok, int max)
{
	struct dl_table *t = table_sm_table(ts->tsm);
	const struct dl_lock *l = lookup(ts, k);
	const struct dl_entry *e;
	struct dl_entry_info in;
	int n = 0;

	for (e = l ? dl_holder_next(l, NULL) : NULL; e; e = dl_holder_next(l, e)) {
		if (n < max) {
			dl_entry_info(t, e, 0, &in);
			tok[n] = in.token;
		}
		n++;
	}
	return n;
}

u64 tablesim_deadline(struct tablesim *ts, u32 k, u64 token)
{
	struct dl_entry_info in;

	if (!find_token(ts, k, token, &in) || in.no_deadline)
		return 0;
	return in.remaining_ns;	/* at time 0: the deadline itself */
}

static void ts_apply(void *sm, const struct repl_cmd *c, u64 index, u64 token,
		     u64 now, struct repl_result *res)
{
	struct tablesim *ts = sm;

	ts->gen = ++gen_next;
	ts->nev = 0;
	table_sm_ops.apply(ts->tsm, c, index, token, now, res);
	if (res->status == -ESHUTDOWN)
		tablesim_ended_refused++;
	if (ts->on_applied)
		ts->on_applied(ts->hctx, c, index, res);
}

static bool ts_next_expired(void *sm, u64 now, struct repl_cmd *out)
{
	struct tablesim *ts = sm;

	return table_sm_ops.next_expired(ts->tsm, now, out);
}

static void ts_restart(void *sm, u64 now)
{
	struct tablesim *ts = sm;

	ts->gen = ++gen_next;
	table_sm_ops.restart_leases(ts->tsm, now);
}

static u64 ts_save_size(void *sm)
{
	struct tablesim *ts = sm;

	return table_sm_ops.save_size(ts->tsm);
}

static s64 ts_save(void *sm, u8 *buf, u64 cap)
{
	struct tablesim *ts = sm;

	return table_sm_ops.save(ts->tsm, buf, cap);
}

static int ts_load(void *sm, const u8 *buf, u64 len, u64 now)
{
	struct tablesim *ts = sm;

	ts->gen = ++gen_next;
	return table_sm_ops.load(ts->tsm, buf, len, now);
}

static void ts_holder_view(void *sm, u64 floor)
{
	struct tablesim *ts = sm;

	ts->gen = ++gen_next;
	table_sm_ops.holder_view(ts->tsm, floor);
}

static void ts_reset(void *sm)
{
	struct tablesim *ts = sm;

	ts->gen = ++gen_next;
	table_sm_ops.reset(ts->tsm);
}

static bool ts_busy(void *sm, u16 node, u32 client)
{
	struct tablesim *ts = sm;

	return table_sm_ops.busy(ts->tsm, node, client);
}

const struct repl_sm_ops tablesim_ops = {
	.apply = ts_apply,
	.next_expired = ts_next_expired,
	.restart_leases = ts_restart,
	.holder_view = ts_holder_view,
	.save_size = ts_save_size,
	.save = ts_save,
	.load = ts_load,
	.reset = ts_reset,
	.busy = ts_busy,
};
