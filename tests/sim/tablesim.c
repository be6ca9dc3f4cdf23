// SPDX-License-Identifier: GPL-2.0
/* The real table behind the simulator, the lock model as oracle: tablesim.h. */
#include <stdio.h>
#include <stdlib.h>
#include "tablesim.h"

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

static const struct table_sm_hooks hooks = { .applied = t_applied };

int tablesim_init(struct tablesim *ts, struct lockmodel *lm)
{
	struct table_sm_cfg cfg = {
		.nr_shards = 4, .hash_seed = 0x51b, .alloc = t_alloc,
		.free = t_free, .hooks = &hooks, .hctx = ts,
	};

	ts->lm = lm;
	ts->why[0] = 0;
	ts->tsm = table_sm_create(&cfg);
	return ts->tsm ? 0 : -ENOMEM;
}

void tablesim_fini(struct tablesim *ts)
{
	if (ts->tsm)
		table_sm_destroy(ts->tsm);
	ts->tsm = NULL;
}

static void lock_name(char *buf, u32 lock)
{
	snprintf(buf, 16, "lock/%u", lock);
}

/* The table's holder of (node, client) on @lock: its token, or 0. */
static u64 holder_token(struct tablesim *ts, u32 lock, u16 node, u32 client)
{
	struct dl_table *t = table_sm_table(ts->tsm);
	const struct dl_entry *e;
	const struct dl_lock *l;
	struct dl_entry_info in;
	char name[16];

	lock_name(name, lock);
	l = dl_lookup(t, name, strlen(name));
	for (e = l ? dl_holder_next(l, NULL) : NULL; e; e = dl_holder_next(l, e)) {
		dl_entry_info(t, e, 0, &in);
		if (in.owner.session_id == tsm_key(node, client))
			return in.token;
	}
	return 0;
}

/* The model's command as the table's (a client of the model tries). */
static void translate(struct tablesim *ts, const struct repl_cmd *c,
		      struct repl_cmd *out)
{
	u32 lock = lm_cmd_lock(c);
	struct tsm_body b = { 0 };
	char name[16];

	memcpy(out, c, offsetof(struct repl_cmd, data));
	out->len = 0;
	lock_name(name, lock);
	b.name = name;
	b.name_len = strlen(name);
	switch (c->op) {
	case REPL_OP_ACQUIRE:
		b.mode = lm_cmd_mode(c) ? DL_MODE_SHARED : DL_MODE_EXCLUSIVE;
		b.flags = DL_ACQ_TRY | (c->ttl ? 0 : DL_ACQ_NO_TTL);
		break;
	case REPL_OP_RELEASE:
	case REPL_OP_RENEW:
		break;
	case REPL_OP_EXPIRE:
		b.token = holder_token(ts, lock, c->node, c->client);
		b.stamp = c->len >= LM_BODY_EXPIRE ? dl_get_le64(c->data + 5) : 0;
		if (!b.token)
			b.token = ~0ULL;	/* none: the table says -ENOENT */
		break;
	default:
		tsm_encode(out, c->op, c->node, c->client, c->req, NULL);
		return;
	}
	if (lock >= LM_LOCKS)
		b.name_len = 0;		/* the table refuses it too */
	if (tsm_encode(out, c->op, c->node, c->client, c->req, &b))
		out->len = 0;
	out->ttl = c->ttl;
	out->hold = c->hold;
	out->arg = c->arg;
}

static bool same_class(int a, int b)
{
	if (a == -EBUSY)
		a = -EAGAIN;	/* the model has no queue: busy is "try again" */
	if (a == -ENOENT || a == -EPERM || a == -ESTALE)
		a = -ENOENT;
	if (b == -ENOENT || b == -EPERM || b == -ESTALE)
		b = -ENOENT;
	return a == b;
}

static void ts_apply(void *sm, const struct repl_cmd *c, u64 index, u64 token,
		     u64 now, struct repl_result *res)
{
	struct tablesim *ts = sm;
	static struct repl_cmd tc;
	struct repl_result mr;
	bool ok = true;

	translate(ts, c, &tc);
	lockmodel_ops.apply(ts->lm, c, index, token, now, &mr);
	if (mr.status == -ENOSPC) {
		/* The model's fixed holder slots are full: keep step, no more. */
		tsm_encode(&tc, REPL_OP_NOOP, 0, 0, 0, NULL);
		table_sm_ops.apply(ts->tsm, &tc, index, token, now, res);
		*res = mr;
		return;
	}
	table_sm_ops.apply(ts->tsm, &tc, index, token, now, res);
	if (!same_class(mr.status, res->status))
		ok = false;
	else if (c->op == REPL_OP_ACQUIRE && !mr.status)
		ok = mr.count == res->count && mr.token == res->token;
	else if (c->op == REPL_OP_RELEASE && !mr.status)
		ok = mr.count == res->count;
	else if (c->op == REPL_OP_SESSION_END)
		ok = mr.count == res->count;
	if (!ok && !ts->lm->violation) {
		snprintf(ts->why, sizeof(ts->why),
			 "table and model differ at index %llu: op %u status %d/%d count %u/%u token %llx/%llx",
			 (unsigned long long)index, c->op, res->status,
			 mr.status, res->count, mr.count,
			 (unsigned long long)res->token,
			 (unsigned long long)mr.token);
		ts->lm->violation = ts->why;
	}
}

/*
 * The table decides what is due (it is the real machine); the entry goes
 * into the log in the model's format, naming the holder by its client.
 */
static bool ts_next_expired(void *sm, u64 now, struct repl_cmd *out)
{
	struct tablesim *ts = sm;
	struct dl_table *t = table_sm_table(ts->tsm);
	static struct repl_cmd tc;
	const struct dl_entry *e;
	const struct dl_lock *l;
	struct dl_entry_info in;
	struct tsm_body b;
	unsigned int lock;
	char name[32];

	if (!table_sm_ops.next_expired(ts->tsm, now, &tc))
		return false;
	if (tsm_decode(&tc, &b) || (b.flags & TSM_EXPIRE_WAIT) ||
	    b.name_len >= sizeof(name))
		return false;
	memcpy(name, b.name, b.name_len);
	name[b.name_len] = 0;
	if (sscanf(name, "lock/%u", &lock) != 1)
		return false;
	l = dl_lookup(t, b.name, b.name_len);
	for (e = l ? dl_holder_next(l, NULL) : NULL; e; e = dl_holder_next(l, e)) {
		dl_entry_info(t, e, 0, &in);
		if (in.token != b.token)
			continue;
		memset(out, 0, offsetof(struct repl_cmd, data));
		out->op = REPL_OP_EXPIRE;
		lm_cmd_set(out, lock, 0);
		dl_put_le64(out->data + LM_BODY, b.stamp);
		out->len = LM_BODY_EXPIRE;
		out->node = (u16)(in.owner.session_id >> 32);
		out->client = (u32)in.owner.session_id;
		return true;
	}
	return false;
}

static void ts_restart(void *sm, u64 now)
{
	struct tablesim *ts = sm;

	lockmodel_ops.restart_leases(ts->lm, now);
	table_sm_ops.restart_leases(ts->tsm, now);
}

/* u64 model bytes, the model's snapshot, then the table's. */
static u64 ts_save_size(void *sm)
{
	struct tablesim *ts = sm;

	return 8 + lockmodel_ops.save_size(ts->lm) +
	       table_sm_ops.save_size(ts->tsm);
}

static s64 ts_save(void *sm, u8 *buf, u64 cap)
{
	struct tablesim *ts = sm;
	s64 a, b;

	if (cap < 8)
		return -ENOSPC;
	a = lockmodel_ops.save(ts->lm, buf + 8, cap - 8);
	if (a < 0)
		return a;
	b = table_sm_ops.save(ts->tsm, buf + 8 + a, cap - 8 - a);
	if (b < 0)
		return b;
	dl_put_le64(buf, (u64)a);
	return 8 + a + b;
}

static int ts_load(void *sm, const u8 *buf, u64 len, u64 now)
{
	struct tablesim *ts = sm;
	u64 a;
	int err;

	if (len < 8)
		return -EINVAL;
	a = dl_get_le64(buf);
	if (a > len - 8)
		return -EINVAL;
	/* The table's load is atomic: first, so a refusal changes nothing. */
	err = table_sm_ops.load(ts->tsm, buf + 8 + a, len - 8 - a, now);
	if (err)
		return err;
	return lockmodel_ops.load(ts->lm, buf + 8, a, now);
}

static void ts_reset(void *sm)
{
	struct tablesim *ts = sm;

	lockmodel_ops.reset(ts->lm);
	table_sm_ops.reset(ts->tsm);
}

const struct repl_sm_ops tablesim_ops = {
	.apply = ts_apply,
	.next_expired = ts_next_expired,
	.restart_leases = ts_restart,
	.save_size = ts_save_size,
	.save = ts_save,
	.load = ts_load,
	.reset = ts_reset,
};
