// SPDX-License-Identifier: GPL-2.0
/*
 * Host tests of the lock table (kmod/table.c): inspection, dumps, limits,
 * garbage arguments, replicas that must agree, allocation failures.
 * On the shared fake glue (table_fixture.h); each case runs alone by name.
 */
#include "table_fixture.h"

static void test_inspect(void)
{
	struct dl_table *t = mk_table(4, 0);
	struct dl_session *s = dl_session_create(t, 7);
	const struct dl_lock *l;
	const struct dl_entry *e;
	struct dl_lock_info li;
	struct dl_entry_info ei;
	struct dl_acquire_res r;
	u64 cookies[3], n = 0;

	acq_full(t, s, 1, "ins", DL_MODE_SHARED, 0, 0, 2000, 0, 0, NULL, &r);
	wait_lock(t, s, 2, "ins", DL_MODE_EXCLUSIVE, 22);
	acq_full(t, s, 3, "ins", DL_MODE_SHARED, 0, DL_ACQ_DETACHED, 1000, 700,
		 33, "dd", NULL);
	l = dl_lookup(t, "ins", 3);
	dl_lock_info(l, &li);
	T_OK(li.nr_holders == 1 && li.nr_waiters == 2 && li.mode == DL_MODE_SHARED &&
	       !li.semaphore && li.name_len == 3, "inspect: lock info");
	e = dl_holder_next(l, NULL);
	dl_entry_info(t, e, now + 500 * MS, &ei);
	T_OK(!ei.waiter && ei.owner.session_id == 7 && ei.owner.tag == 1 &&
	       ei.token == r.token && ei.count == 1 && ei.remaining_ns == 1500 * MS &&
	       !strcmp(ei.meta, "pid1") && !dl_holder_next(l, e),
	       "inspect: holder owner, token, count, remaining TTL, metadata");
	for (e = NULL; (e = dl_waiter_next(l, e)) && n < 3;) {
		dl_entry_info(t, e, now, &ei);
		cookies[n++] = ei.cookie;
	}
	dl_entry_info(t, dl_waiter_next(l, dl_waiter_next(l, NULL)), now, &ei);
	T_OK(n == 2 && cookies[0] == 22 && cookies[1] == 33 && ei.waiter &&
	       ei.owner.detached && ei.owner.len == 2 && !memcmp(ei.owner.str, "dd", 2) &&
	       ei.remaining_ns == 700 * MS, "inspect: waiters in order with owner and timeout");
	T_OK(!dl_lookup(t, "nope", 4) && !dl_lookup(t, "", 0), "inspect: unknown or bad name -> NULL");
	finish(t, &s, 1);
}

/* Dump all locks in pages of @page, mutating the table between pages. */
static void test_dump(void)
{
	struct dl_table *t = mk_table(4, 0);
	struct dl_session *s = dl_session_create(t, 1);
	static unsigned char seen[4000];
	struct dl_cursor c;
	char name[32];
	int i, dup = 0, missing = 0, pages = 0, n;
	u64 g0, g1;
	bool intr = false;

	for (i = 0; i < 2000; i++) {
		snprintf(name, sizeof(name), "d%d", i);
		try_lock(t, s, 1, name, DL_MODE_EXCLUSIVE, NULL);
	}
	memset(seen, 0, sizeof(seen));
	dl_cursor_init(&c);
	g0 = dl_table_generation(t);
	for (;;) {
		const struct dl_lock *l;
		struct dl_lock_info li;

		for (n = 0; n < 37 && (l = dl_dump_next(t, &c)); n++) {
			dl_lock_info(l, &li);
			memcpy(name, li.name, li.name_len);
			name[li.name_len] = 0;
			i = atoi(name + 1);
			if (seen[i]++)
				dup++;
		}
		if (n == 0 && !dl_cursor_next_shard(t, &c))
			break;
		if (pages > 100000)	/* a cursor that does not advance */
			break;
		pages++;
		/* Between pages: add 3 (forcing resizes), drop 2 odd ones. */
		for (i = 0; i < 3; i++) {
			snprintf(name, sizeof(name), "d%d", 2000 + pages * 3 + i);
			if (2000 + pages * 3 + i < 4000)
				try_lock(t, s, 1, name, DL_MODE_EXCLUSIVE, NULL);
		}
		for (i = 0; i < 2; i++) {
			snprintf(name, sizeof(name), "d%d", (pages * 2 + i) * 2 + 1);
			if ((pages * 2 + i) * 2 + 1 < 2000)
				unlock(t, s, 1, name);
		}
		g1 = dl_table_generation(t);
		intr |= g1 != g0;
		g0 = g1;
	}
	for (i = 0; i < 2000; i += 2)	/* even ones were there throughout */
		missing += !seen[i];
	T_OK(pages > 50 && dup == 0 && missing == 0,
	       "dump: %d pages across inserts, removals and resizes: no lock twice, none missed", pages);
	T_OK(intr, "dump: generation changes when the table changes mid-dump");
	g0 = dl_table_generation(t);
	dl_cursor_init(&c);
	while (dl_dump_next(t, &c) || dl_cursor_next_shard(t, &c))
		;
	T_OK(dl_table_generation(t) == g0, "dump: generation unchanged by reading");
	T_OK(check_ok(t), "dump: table consistent");
	finish(t, &s, 1);
}

static void test_limits(void)
{
	struct dl_table_config cfg = { .nr_shards = 4, .max_leases = 5,
				       .max_waiters = 3, .max_session_leases = 3,
				       .max_session_waiters = 2 };
	struct dl_table *t = mk_table_cfg(&cfg);
	struct dl_session *a = dl_session_create(t, 1);
	struct dl_session *b = dl_session_create(t, 2);
	struct dl_session *c = dl_session_create(t, 3);
	struct dl_session *ss[3] = { a, b, c };
	char name[16];
	int i, ok = 1;

	for (i = 0; i < 3; i++) {
		snprintf(name, sizeof(name), "l%d", i);
		ok &= try_lock(t, a, 1, name, DL_MODE_EXCLUSIVE, NULL) == 0;
	}
	T_OK(ok && try_lock(t, a, 1, "l3", DL_MODE_EXCLUSIVE, NULL) == -EDQUOT,
	       "limits: per-session lease cap -> -EDQUOT");
	ok = try_lock(t, b, 1, "m0", DL_MODE_EXCLUSIVE, NULL) == 0 &&
	     try_lock(t, b, 1, "m1", DL_MODE_EXCLUSIVE, NULL) == 0;
	T_OK(ok && try_lock(t, b, 1, "m2", DL_MODE_EXCLUSIVE, NULL) == -ENOSPC,
	       "limits: per-table lease cap -> -ENOSPC");
	T_OK(try_lock(t, a, 1, "l0", DL_MODE_EXCLUSIVE, NULL) == 0,
	       "limits: reentrant re-acquire is not a new lease");
	ok = wait_lock(t, c, 1, "l0", DL_MODE_EXCLUSIVE, 1) == DL_QUEUED &&
	     wait_lock(t, c, 2, "l0", DL_MODE_EXCLUSIVE, 2) == DL_QUEUED;
	T_OK(ok && wait_lock(t, c, 3, "l0", DL_MODE_EXCLUSIVE, 3) == -EDQUOT,
	       "limits: per-session waiter cap -> -EDQUOT");
	ok = wait_lock(t, b, 4, "l0", DL_MODE_EXCLUSIVE, 4) == DL_QUEUED;
	T_OK(ok && wait_lock(t, b, 5, "l1", DL_MODE_EXCLUSIVE, 5) == -ENOSPC,
	       "limits: per-table waiter cap -> -ENOSPC");
	T_OK(check_ok(t), "limits: table consistent");
	finish(t, ss, 3);
}

/* dl_table_set_limits(): caps change on a running table, for new admissions. */
static void test_set_limits(void)
{
	struct dl_table_config cfg = { .nr_shards = 4 };
	struct dl_table_limits lim = { .max_ttl_ms = 2000, .max_leases = 4,
				       .max_waiters = 2,
				       .max_session_leases = 2,
				       .max_session_waiters = 1 };
	struct dl_table *t = mk_table_cfg(&cfg);
	struct dl_session *a = dl_session_create(t, 1);
	struct dl_session *b = dl_session_create(t, 2);
	struct dl_session *ss[2] = { a, b };
	struct dl_table_limits got;
	struct dl_entry_info ei;
	int ok;

	dl_table_get_limits(t, &got);
	T_OK(got.max_ttl_ms == DL_DEFAULT_MAX_TTL_MS && !got.max_leases &&
	       !got.max_session_waiters, "set_limits: defaults read back");
	ok = try_lock(t, a, 1, "x0", DL_MODE_EXCLUSIVE, NULL) == 0 &&
	     try_lock(t, a, 1, "x1", DL_MODE_EXCLUSIVE, NULL) == 0 &&
	     try_lock(t, a, 1, "x2", DL_MODE_EXCLUSIVE, NULL) == 0;
	dl_table_set_limits(t, &lim);
	dl_table_get_limits(t, &got);
	T_OK(ok && !memcmp(&got, &lim, sizeof(got)), "set_limits: new limits read back");
	T_OK(holders(t, "x2") == 1 &&
	       try_lock(t, a, 1, "x3", DL_MODE_EXCLUSIVE, NULL) == -EDQUOT,
	       "set_limits: lowered session cap: leases kept, new one -> -EDQUOT");
	T_OK(try_lock(t, b, 1, "y0", DL_MODE_EXCLUSIVE, NULL) == 0 &&
	       try_lock(t, b, 1, "y1", DL_MODE_EXCLUSIVE, NULL) == -ENOSPC,
	       "set_limits: lowered table cap -> -ENOSPC");
	T_OK(wait_lock(t, b, 1, "x0", DL_MODE_EXCLUSIVE, 1) == DL_QUEUED &&
	       wait_lock(t, b, 2, "x1", DL_MODE_EXCLUSIVE, 2) == -EDQUOT,
	       "set_limits: session waiter cap applies");
	T_OK(wait_lock(t, a, 2, "x0", DL_MODE_EXCLUSIVE, 3) == DL_QUEUED &&
	       wait_lock(t, a, 3, "x1", DL_MODE_EXCLUSIVE, 4) == -ENOSPC,
	       "set_limits: table waiter cap applies");
	T_OK(unlock(t, a, 1, "x2") == 0 &&
	       acq_full(t, b, 4, "ttl", DL_MODE_EXCLUSIVE, 0, 0, 60000, 0, 0,
			NULL, NULL) == 0 && holder_info(t, "ttl", 2, 4, &ei) &&
	       ei.remaining_ns == 2000 * MS, "set_limits: new TTL cap applies");
	lim = (struct dl_table_limits){ 0 };
	dl_table_set_limits(t, &lim);
	dl_table_get_limits(t, &got);
	T_OK(got.max_ttl_ms == DL_DEFAULT_MAX_TTL_MS &&
	       try_lock(t, b, 3, "y1", DL_MODE_EXCLUSIVE, NULL) == 0 &&
	       try_lock(t, b, 3, "y2", DL_MODE_EXCLUSIVE, NULL) == 0 &&
	       wait_lock(t, b, 4, "x1", DL_MODE_EXCLUSIVE, 5) == DL_QUEUED,
	       "set_limits: 0 lifts the caps, TTL cap back to 1 hour");
	T_OK(check_ok(t), "set_limits: table consistent");
	finish(t, ss, 2);
}

/* Random, mostly malformed arguments to every command: no crash, no drift. */
static void test_garbage(void)
{
	struct dl_table *t = mk_table(4, 0);
	struct dl_session *ss[3];
	static char buf[2048];
	int i, bad = 0, accepted = 0;

	for (i = 0; i < 3; i++)
		ss[i] = dl_session_create(t, i + 1);
	for (i = 0; i < 30000; i++) {
		u64 x = rnd(), y = rnd();
		struct dl_cmd cx = { .now = now, .global = y & 1 };
		u32 len = x % 4 ? 1 + (x >> 8) % 4 : (x >> 8) % 300;
		const char *name = buf + (y >> 8) % 64;
		struct dl_owner_ref o = {
			.sess = (x >> 20) % 5 ? ss[(x >> 24) % 3] : NULL,
			.tag = (x >> 28) % 3,
			.str = (x >> 32) % 3 ? NULL : buf + 100,
			.len = (x >> 34) % 70,
		};
		struct dl_acquire_req rq = {
			.name = name, .name_len = len, .mode = (x >> 40) % 4,
			.permits = (y >> 16) % 3, .flags = (y >> 20) % 16,
			.ttl_ms = (y >> 24) % 3 ? (y >> 26) % 1000 : 0,
			.wait_ms = (y >> 36) % 100, .sess = ss[(y >> 44) % 3],
			.tag = (y >> 46) % 3, .owner = (y >> 48) % 4 ? buf + 100 : NULL,
			.owner_len = (y >> 50) % 70, .cookie = y >> 52,
		};
		struct dl_acquire_res r;
		int rc;

		buf[(y >> 40) % 200] = (char)(x >> 56);	/* sometimes a NUL */
		switch ((x >> 44) % 8) {
		case 0:
		case 1:
		case 2:
			rc = dl_acquire(t, &cx, &rq, &r);
			break;
		case 3:
			rc = dl_release(t, &cx, name, len, &o, NULL);
			break;
		case 4:
			rc = dl_renew(t, &cx, name, len, &o, (u32)y);
			break;
		case 5:
			rc = dl_set_value(t, &cx, name, len, &o, buf, (y >> 4) % 1100);
			break;
		case 6:
			rc = dl_cancel(t, &cx, name, len, ss[y % 3], y >> 52);
			break;
		default:
			rc = dl_break(t, &cx, name, len, (y >> 8) % 3 ? 0 : 1000 + y % 50);
			break;
		}
		accepted += rc >= 0;
		if (rc > DL_MORE || rc < -4095)
			bad++;
		now += (x >> 48) % (50 * MS);
		run_timers(t);
		if (dl_table_check(t))
			bad++;
	}
	T_OK(!bad && accepted > 500,
	     "garbage: 30000 random commands, no crash, table consistent (%d accepted, %d bad)",
	     accepted, bad);
	finish(t, ss, 3);
}

/*
 * Replicas: two tables fed the same commands, with different allocation
 * patterns (so different addresses), must emit identical notifications.
 */
struct replica {
	u64 token;
	u64 digest;
	long n;
};

static void rep_mix(struct dl_cmd *cx, u64 a, u64 b, const char *s, u32 len)
{
	struct replica *r = cx->priv;
	u32 i;

	r->digest = (r->digest ^ a) * 0x100000001b3ULL;
	r->digest = (r->digest ^ b) * 0x100000001b3ULL;
	for (i = 0; i < len; i++)
		r->digest = (r->digest ^ (u8)s[i]) * 0x100000001b3ULL;
	r->n++;
}

static u64 rep_token(struct dl_cmd *cx)
{
	return ++((struct replica *)cx->priv)->token;
}

static void rep_timer(struct dl_cmd *cx, u32 shard, u64 d)
{
	rep_mix(cx, shard, d, "", 0);
}

static void rep_wait(struct dl_cmd *cx, const struct dl_wait_done *wd)
{
	rep_mix(cx, wd->cookie, wd->token ^ (u64)wd->err, wd->name, wd->name_len);
}

static void rep_lost(struct dl_cmd *cx, const struct dl_lost *ls)
{
	rep_mix(cx, ls->tag, ls->token ^ ls->reason, ls->name, ls->name_len);
}

static void rep_event(struct dl_cmd *cx, const struct dl_event *ev)
{
	rep_mix(cx, ev->type ^ ((u64)ev->mode << 8) ^ (ev->owner.session_id << 16) ^
		ev->owner.tag, ev->token, ev->name, ev->name_len);
}

static const struct dl_table_ops rep_ops = {
	.alloc = t_alloc, .free = t_free, .next_token = rep_token,
	.set_timer = rep_timer, .wait_done = rep_wait, .lost = rep_lost,
	.event = rep_event,
};

static void test_replicas(void)
{
	struct dl_table_config cfg = { .nr_shards = 8, .meta_size = 8, .hash_seed = 7 };
	struct dl_table *t[2];
	struct dl_session *s[2][4];
	struct replica rp[2];
	void *junk[64] = { NULL };
	int i, k, step, same = 1;
	u64 tnow = SEC;
	char name[8];

	memset(rp, 0, sizeof(rp));
	for (k = 0; k < 2; k++) {
		t[k] = dl_table_create(&cfg, &rep_ops, NULL);
		for (i = 0; i < 4; i++)
			s[k][i] = dl_session_create(t[k], i + 1);
	}
	for (step = 0; step < 20000; step++) {
		u64 x = rnd();
		int op = x % 10, si = (x >> 8) % 4, tag = (x >> 12) % 3;
		u32 sh;

		snprintf(name, sizeof(name), "n%d", (int)((x >> 16) % 5));
		tnow += (x >> 24) % (20 * MS);
		junk[step % 64] = malloc(1 + (x >> 32) % 200);	/* perturb addresses */
		free(junk[(step + 32) % 64]);
		junk[(step + 32) % 64] = NULL;
		for (k = 0; k < 2; k++) {
			struct dl_cmd cx = { .now = tnow, .global = true, .priv = &rp[k] };
			struct dl_owner_ref o = { .sess = s[k][si], .tag = tag };
			struct dl_acquire_res r;
			struct dl_acquire_req rq = {
				.name = name, .name_len = strlen(name),
				.mode = op & 1 ? DL_MODE_SHARED : DL_MODE_EXCLUSIVE,
				.ttl_ms = 30 + (x >> 40) % 100, .wait_ms = (x >> 50) % 3 * 40,
				.sess = s[k][si], .tag = tag, .cookie = step,
			};
			int rc = 0;

			if (op < 5)
				rc = dl_acquire(t[k], &cx, &rq, &r);
			else if (op < 8)
				rc = dl_release(t[k], &cx, name, strlen(name), &o, NULL);
			else if (op < 9)
				rc = dl_renew(t[k], &cx, name, strlen(name), &o, 50);
			rep_mix(&cx, (u64)rc, 0, "", 0);
			for (sh = 0; sh < 8; sh++)
				dl_run_timers(t[k], &cx, sh, 0);
		}
		same &= rp[0].digest == rp[1].digest;
	}
	for (i = 0; i < 64; i++)
		free(junk[i]);
	for (k = 0; k < 2; k++) {
		struct dl_cmd cx = { .now = tnow, .global = true, .priv = &rp[k] };
		u32 sh;

		for (i = 0; i < 4; i++) {
			for (sh = 0; sh < 8; sh++)
				dl_session_end(t[k], &cx, s[k][i], sh);
			dl_session_destroy(t[k], s[k][i]);
		}
		dl_table_destroy(t[k]);
	}
	same &= rp[0].digest == rp[1].digest;
	T_OK(same && rp[0].n == rp[1].n && rp[0].n > 20000,
	     "replicas: same commands, different addresses -> identical notifications (%ld)",
	     rp[0].n);
}

static void test_alloc_failure(void)
{
	struct dl_table *t = mk_table(2, 0);
	struct dl_session *s = dl_session_create(t, 1);
	long before;
	int i, ok = 1, fails = 0, rc;
	char name[16];

	try_lock(t, s, 1, "held", DL_MODE_EXCLUSIVE, NULL);
	for (i = 0; i < 200; i++) {
		snprintf(name, sizeof(name), "f%d", i);
		before = live_objs[DL_OBJ_ENTRY] + live_objs[DL_OBJ_LOCK];
		fail_countdown = i % 3;
		rc = try_lock(t, s, 1, name, DL_MODE_EXCLUSIVE, NULL);
		if (rc == -ENOMEM) {
			fails++;
			/* Heap and bucket arrays may have grown: capacity, not a leak. */
			if (live_objs[DL_OBJ_ENTRY] + live_objs[DL_OBJ_LOCK] != before ||
			    dl_lookup(t, name, strlen(name))) {
				fprintf(stderr, "# leak after failed acquire %d\n", i);
				ok = 0;
			}
		}
		fail_countdown = i % 2;
		rc = wait_lock(t, s, 2 + i, "held", DL_MODE_EXCLUSIVE, i);
		if (rc == -ENOMEM)
			fails++;
		fail_countdown = -1;
		ok &= check_ok(t);
	}
	T_OK(ok && fails > 0, "alloc failure: %d injected failures leave no trace", fails);
	finish(t, &s, 1);
	for (i = 0, ok = 1, fails = 0; i < 10; i++) {
		fail_countdown = i;
		t = mk_table(2, 0);
		fail_countdown = -1;
		if (t) {
			dl_table_destroy(t);
			continue;
		}
		fails++;
		if (live_total()) {
			fprintf(stderr, "# table create, fail at %d: live=%ld\n", i,
				live_total());
			ok = 0;
		}
	}
	T_OK(ok && fails == 9, "alloc failure: table creation fails cleanly at each of its %d allocations", fails);
}

static const struct fx_case cases[] = {
	{ "inspect", test_inspect },
	{ "dump", test_dump },
	{ "limits", test_limits },
	{ "set_limits", test_set_limits },
	{ "garbage", test_garbage },
	{ "replicas", test_replicas },
	{ "alloc_failure", test_alloc_failure },
};

FX_MAIN(cases)
