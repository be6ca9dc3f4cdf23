// SPDX-License-Identifier: GPL-2.0
/* Compact replicated lease table for the simulator, see lockmodel.h. */
#include "lockmodel.h"

#define REC 48

void lockmodel_init(struct lockmodel *lm)
{
	void *hctx = lm->hctx;
	void (*a)(void *, u64, u64) = lm->on_applied;
	void (*g)(void *, u32, u64) = lm->on_grant;

	memset(lm, 0, sizeof(*lm));
	lm->hctx = hctx;
	lm->on_applied = a;
	lm->on_grant = g;
}

struct lm_holder *lockmodel_find(struct lockmodel *lm, u32 lock, u32 client)
{
	u32 i;

	if (lock >= LM_LOCKS)
		return NULL;
	for (i = 0; i < LM_HOLDERS; i++)
		if (lm->lock[lock].h[i].used && lm->lock[lock].h[i].client == client)
			return &lm->lock[lock].h[i];
	return NULL;
}

static u64 mix(u64 h, u64 v)
{
	h ^= v + 0x9e3779b97f4a7c15ULL + (h << 6) + (h >> 2);
	h *= 0xff51afd7ed558ccdULL;
	return h ^ (h >> 33);
}

static void lm_apply(void *sm, const struct repl_cmd *c, u64 index, u64 token,
		     u64 now, struct repl_result *res)
{
	struct lockmodel *lm = sm;
	u32 lock = lm_cmd_lock(c);
	u8 mode = lm_cmd_mode(c);
	struct lm_lock *l = lock < LM_LOCKS ? &lm->lock[lock] : NULL;
	struct lm_holder *h = NULL, *f = NULL;
	u64 stamp, body = 0;
	u32 i, j;

	res->status = 0;
	res->count = 0;
	res->token = 0;
	switch (c->op) {
	case REPL_OP_ACQUIRE:
		if (!l || mode > LM_MODE_SHARED) {
			res->status = -EINVAL;
			break;
		}
		h = lockmodel_find(lm, lock, c->client);
		if (h) {
			if (h->mode != mode) {
				res->status = -EDEADLK;
				break;
			}
			h->count++;
			h->stamp = index;
			/* a lease never gets shorter */
			h->hold = max(h->hold, c->hold);
			h->deadline = max(h->deadline, now + c->hold);
			h->expiring = false;
			res->count = h->count;
			res->token = h->token;
			break;
		}
		for (i = 0; i < LM_HOLDERS; i++) {
			if (!l->h[i].used) {
				if (!f)
					f = &l->h[i];
				continue;
			}
			if (mode == LM_MODE_EXCL ||
			    l->h[i].mode == LM_MODE_EXCL) {
				res->status = -EBUSY;
				break;
			}
		}
		if (res->status)
			break;
		if (!f) {
			res->status = -ENOSPC;
			break;
		}
		if (token <= l->last_token)
			lm->violation = "fencing token did not increase";
		if (lm->on_grant)
			lm->on_grant(lm->hctx, lock, token);
		l->last_token = token;
		memset(f, 0, sizeof(*f));
		f->used = true;
		f->mode = mode;
		f->node = c->node;
		f->client = c->client;
		f->count = 1;
		f->token = token;
		f->stamp = index;
		f->hold = c->hold;
		f->deadline = now + c->hold;
		res->count = 1;
		res->token = token;
		break;
	case REPL_OP_RELEASE:
		h = l ? lockmodel_find(lm, lock, c->client) : NULL;
		if (!h) {
			res->status = -ENOENT;
			break;
		}
		res->token = h->token;
		res->count = --h->count;
		if (!h->count)
			h->used = false;
		break;
	case REPL_OP_RENEW:
		h = l ? lockmodel_find(lm, lock, c->client) : NULL;
		if (!h) {
			res->status = -ENOENT;
			break;
		}
		h->stamp = index;
		h->hold = max(h->hold, c->hold);
		h->deadline = max(h->deadline, now + c->hold);
		h->expiring = false;
		res->count = h->count;
		res->token = h->token;
		break;
	case REPL_OP_EXPIRE:
		h = l ? lockmodel_find(lm, lock, c->client) : NULL;
		stamp = c->len >= LM_BODY_EXPIRE ? dl_get_le64(c->data + 5) : 0;
		if (h && h->stamp == stamp)
			h->used = false;
		else
			res->status = -ENOENT;
		break;
	case REPL_OP_CLIENT_END:
		/* every lease of the client, wherever it is */
		for (i = 0; i < LM_LOCKS; i++)
			for (j = 0; j < LM_HOLDERS; j++) {
				h = &lm->lock[i].h[j];
				if (h->used && h->client == c->client) {
					h->used = false;
					res->count++;
				}
			}
		break;
	case REPL_OP_SESSION_END:
		for (i = 0; i < LM_LOCKS; i++)
			for (j = 0; j < LM_HOLDERS; j++) {
				h = &lm->lock[i].h[j];
				if (h->used && h->node == c->node &&
				    h->stamp <= c->arg) {
					h->used = false;
					res->count++;
				}
			}
		break;
	default:
		res->status = -EINVAL;
		break;
	}
	for (i = 0; i < c->len && i < REPL_DATA_MAX; i++)
		body = mix(body, c->data[i]);
	lm->digest = mix(mix(mix(lm->digest, index), ((u64)c->op << 56) ^
			     ((u64)c->client << 24) ^ body ^
			     ((u64)c->req << 32)),
			 mix((u64)(u32)res->status ^ ((u64)res->count << 32),
			     res->token));
	lm->index = index;
	memcpy(&lm->last_cmd, c, offsetof(struct repl_cmd, data) +
	       min((u32)c->len, (u32)REPL_DATA_MAX));
	lm->last_status = res->status;
	if (lm->on_applied)
		lm->on_applied(lm->hctx, index, lm->digest);
}

static bool lm_next_expired(void *sm, u64 now, struct repl_cmd *out)
{
	struct lockmodel *lm = sm;
	u32 i, j;

	for (i = 0; i < LM_LOCKS; i++)
		for (j = 0; j < LM_HOLDERS; j++) {
			struct lm_holder *h = &lm->lock[i].h[j];

			/* hold 0: session-bound, ended by CLIENT_END or
			 * SESSION_END only */
			if (!h->used || h->expiring || !h->hold ||
			    now < h->deadline)
				continue;
			h->expiring = true;
			memset(out, 0, offsetof(struct repl_cmd, data));
			out->op = REPL_OP_EXPIRE;
			lm_cmd_set(out, i, 0);
			dl_put_le64(out->data + LM_BODY, h->stamp);
			out->len = LM_BODY_EXPIRE;
			out->client = h->client;
			out->node = h->node;
			return true;
		}
	return false;
}

static void lm_restart(void *sm, u64 now)
{
	struct lockmodel *lm = sm;
	u32 i, j;

	for (i = 0; i < LM_LOCKS; i++)
		for (j = 0; j < LM_HOLDERS; j++) {
			struct lm_holder *h = &lm->lock[i].h[j];

			h->deadline = now + h->hold;
			h->expiring = false;
		}
}


/* digest, index, last_token[LM_LOCKS], count, then REC bytes per holder */
static u64 lm_save_size(void *sm)
{
	(void)sm;
	return 24 + 8 * LM_LOCKS + (u64)LM_LOCKS * LM_HOLDERS * REC;
}

static s64 lm_save(void *sm, u8 *buf, u64 cap)
{
	struct lockmodel *lm = sm;
	u32 i, j, off = 24 + 8 * LM_LOCKS, n = 0;

	for (i = 0; i < LM_LOCKS; i++)
		for (j = 0; j < LM_HOLDERS; j++)
			n += lm->lock[i].h[j].used;
	if (cap < off + n * REC)
		return -ENOSPC;
	dl_put_le64(buf, lm->digest);
	dl_put_le64(buf + 8, lm->index);
	dl_put_le64(buf + 16, n);
	for (i = 0; i < LM_LOCKS; i++)
		dl_put_le64(buf + 24 + 8 * i, lm->lock[i].last_token);
	for (i = 0; i < LM_LOCKS; i++)
		for (j = 0; j < LM_HOLDERS; j++) {
			struct lm_holder *h = &lm->lock[i].h[j];

			if (!h->used)
				continue;
			dl_put_le64(buf + off, i | (u64)j << 8 | (u64)h->mode << 16 |
				(u64)h->node << 24 | (u64)h->client << 32);
			dl_put_le64(buf + off + 8, h->count);
			dl_put_le64(buf + off + 16, h->token);
			dl_put_le64(buf + off + 24, h->stamp);
			dl_put_le64(buf + off + 32, h->hold);
			dl_put_le64(buf + off + 40, 0);
			off += REC;
		}
	return off;
}

static int lm_load(void *sm, const u8 *buf, u64 len, u64 now)
{
	struct lockmodel *lm = sm;
	u32 i, off = 24 + 8 * LM_LOCKS;
	u64 n;

	if (len < off)
		return -EINVAL;
	n = dl_get_le64(buf + 16);
	if (n > LM_LOCKS * LM_HOLDERS || len != off + n * REC)
		return -EINVAL;
	/* check every record before touching the state: all or nothing */
	for (i = 0; i < n; i++) {
		u64 a = dl_get_le64(buf + off + i * REC);

		if ((a & 0xff) >= LM_LOCKS || ((a >> 8) & 0xff) >= LM_HOLDERS)
			return -EINVAL;
	}
	lockmodel_init(lm);
	lm->digest = dl_get_le64(buf);
	lm->index = dl_get_le64(buf + 8);
	for (i = 0; i < LM_LOCKS; i++)
		lm->lock[i].last_token = dl_get_le64(buf + 24 + 8 * i);
	for (i = 0; i < n; i++, off += REC) {
		u64 a = dl_get_le64(buf + off);
		u32 l = a & 0xff, s = (a >> 8) & 0xff;
		struct lm_holder *h = &lm->lock[l].h[s];

		h->used = true;
		h->mode = (a >> 16) & 0xff;
		h->node = (a >> 24) & 0xff;
		h->client = (u32)(a >> 32);
		h->count = (u32)dl_get_le64(buf + off + 8);
		h->token = dl_get_le64(buf + off + 16);
		h->stamp = dl_get_le64(buf + off + 24);
		h->hold = dl_get_le64(buf + off + 32);
		h->deadline = now + h->hold;
	}
	if (lm->on_applied)
		lm->on_applied(lm->hctx, lm->index, lm->digest);
	return 0;
}

static void lm_reset(void *sm)
{
	lockmodel_init(sm);
}

static bool lm_busy(void *sm, u16 node, u32 client)
{
	struct lockmodel *lm = sm;
	u32 k, i;

	for (k = 0; k < LM_LOCKS; k++)
		for (i = 0; i < LM_HOLDERS; i++)
			if (lm->lock[k].h[i].used &&
			    lm->lock[k].h[i].client == client &&
			    lm->lock[k].h[i].node == node)
				return true;
	return false;
}

const struct repl_sm_ops lockmodel_ops = {
	.apply = lm_apply,
	.next_expired = lm_next_expired,
	.restart_leases = lm_restart,
	.save_size = lm_save_size,
	.save = lm_save,
	.load = lm_load,
	.reset = lm_reset,
	.busy = lm_busy,
};
