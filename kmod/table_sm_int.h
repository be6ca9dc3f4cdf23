/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Internals of the table adapter (table_sm*.c).  Policy code: compat.h only.
 */
#ifndef DLOCK_TABLE_SM_INT_H
#define DLOCK_TABLE_SM_INT_H

#include "table_sm.h"

/* A client's session in the table, by tsm_key(node, client). */
struct tsm_sess {
	u64 key;
	struct dl_session *s;
};

/* A client whose CLIENT_END committed, at that entry's index. */
struct tsm_tomb {
	u64 key;
	u64 index;
};

#define TSM_TOMB_MAX	4096

/*
 * The replicated state.  A snapshot is loaded into a second one that
 * replaces the first only once complete.
 */
struct tsm_state {
	struct dl_table *t;
	struct tsm_sess *sess;		/* sorted by key: node, then client */
	u32 nr_sess;
	u32 cap_sess;
	struct tsm_tomb *tomb;		/* sorted by key */
	u32 nr_tomb;
	u32 cap_tomb;
	u64 last_token;
	u64 digest;
	u64 index;
};

struct table_sm {
	struct table_sm_cfg cfg;
	struct dl_table_config tcfg;
	struct tsm_state st;
	u32 next_shard;			/* leader: where next_expired looks */
	bool holder;			/* not the leader: table_holder.c */
};

/* cx->priv of every table command the adapter runs. */
struct tsm_ctx {
	struct table_sm *sm;
	struct tsm_state *st;
	bool loading;			/* snapshot: no hooks, no digest */
	u64 token;			/* the log's: floor of every grant */
};

extern const struct dl_table_ops tsm_table_ops;

void *tsm_alloc(struct table_sm *sm, size_t size);
void tsm_free(struct table_sm *sm, void *p, size_t size);
int tsm_state_init(struct table_sm *sm, struct tsm_state *st);
void tsm_state_free(struct table_sm *sm, struct tsm_state *st);
struct dl_session *tsm_sess_find(const struct tsm_state *st, u64 key);
struct dl_session *tsm_sess_get(struct table_sm *sm, struct tsm_state *st,
				u64 key);
u64 tsm_mix(u64 h, u64 v);

bool tsm_tomb_find(const struct tsm_state *st, u64 key);
int tsm_tomb_add(struct table_sm *sm, struct tsm_state *st, u64 key,
		 u64 index);
void tsm_tomb_free(struct table_sm *sm, struct tsm_state *st);

s64 tsm_save(void *p, u8 *buf, u64 cap);
u64 tsm_save_size(void *p);
int tsm_load(void *p, const u8 *buf, u64 len, u64 now);

#endif /* DLOCK_TABLE_SM_INT_H */
