// SPDX-License-Identifier: GPL-2.0
/*
 * Host tests of the table adapter's snapshot (kmod/table_sm_snap.c): a node
 * that loads a snapshot mid-sequence goes on exactly like the nodes that
 * applied the log; a damaged snapshot is refused and leaves the old state;
 * a table of 1,000,000 leases saves and loads (figures printed).
 *   test_table_sm_snap [--san] [--quick]   --quick: 100,000 leases
 */
#include <time.h>

#include "test_table_sm.h"

static double secs(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static u8 *save_buf(struct table_sm *sm, s64 *n)
{
	u64 cap = table_sm_ops.save_size(sm);
	u8 *buf = malloc(cap ? cap : 1);

	*n = table_sm_ops.save(sm, buf, cap);
	return buf;
}

/* A bit of everything: holders of each kind, values, queues, a lazy mark. */
static void fill(void)
{
	static const char *own = "ops-team";
	int i;

	run(REPL_OP_ACQUIRE, 1, 1, BODY(NAME("a"), .tag = 3), SEC, NULL);
	run(REPL_OP_ACQUIRE, 1, 1, BODY(NAME("a"), .tag = 3), SEC, NULL);
	run(REPL_OP_SET_VALUE, 1, 1, BODY(NAME("a"), .tag = 3, .value = "val",
	    .value_len = 3), 0, NULL);
	run(REPL_OP_ACQUIRE, 2, 9, BODY(NAME("d"), .flags = DL_ACQ_DETACHED,
	    .owner = own, .owner_len = 8, .uid = 7), 30 * SEC, NULL);
	for (i = 0; i < 4; i++)
		run(REPL_OP_ACQUIRE, 1 + i % 3, 20 + i, BODY(NAME("a"),
		    .mode = i % 2 ? DL_MODE_SHARED : DL_MODE_EXCLUSIVE,
		    .cookie = i, .wait_ms = i * 100,
		    .flags = i ? 0 : DL_ACQ_NO_TTL), i ? SEC : 0, NULL);
	run(REPL_OP_ACQUIRE, 3, 30, BODY(NAME("d"), .flags = DL_ACQ_DETACHED,
	    .owner = "x", .owner_len = 1, .cookie = 5), SEC, NULL);
	run(REPL_OP_ACQUIRE, 1, 40, BODY(NAME("s"), .mode = DL_MODE_SEMAPHORE,
	    .permits = 2), SEC, NULL);
	/* Node 0's client 0: a session whose key is 0. */
	run(REPL_OP_ACQUIRE, 0, 0, BODY(NAME("s"), .mode = DL_MODE_SEMAPHORE,
	    .permits = 2), SEC, NULL);
	/* The last exclusive waiter leaves: the lock looks for it lazily. */
	run(REPL_OP_CANCEL, 1 + 2 % 3, 22, BODY(NAME("a"), .cookie = 2), 0,
	    NULL);
}

static void case_midway(void)
{
	struct repl_cmd e;
	int ok;

	nodes_init(3, 4);
	fill();
	T_OK(transfer(0, 2, now0) == 0, "node 2 loads node 0's snapshot");
	T_OK(nodes_equal(), "and has the same state, digest included");
	run(REPL_OP_RELEASE, 1, 1, BODY(NAME("a"), .tag = 3), 0, NULL);
	run(REPL_OP_RELEASE, 1, 1, BODY(NAME("a"), .tag = 3), 0, NULL);
	run(REPL_OP_CLIENT_END, 1, 20, NULL, 0, NULL);
	ok = nodes[0].nwd > 0;
	now0 += 10 * SEC;
	while (table_sm_ops.next_expired(nodes[0].sm, now0, &e))
		apply_all(&e);
	T_OK(ok && nodes_equal(), "then the same grants, expiries and state as the others");
	nodes_fini();
}

/* Every truncation and many single-byte changes: refused, or consistent. */
static void case_damage(void)
{
	char *before, *after;
	int ok = 1, refused = 0, taken = 0;
	s64 n, i;
	u8 *buf;

	nodes_init(2, 4);
	fill();
	buf = save_buf(nodes[0].sm, &n);
	nodes_fini();
	nodes_init(2, 4);
	run(REPL_OP_ACQUIRE, 1, 1, BODY(NAME("mine")), SEC, NULL);
	before = dump(nodes[1].sm);
	for (i = 0; i < n; i++) {
		ok &= table_sm_ops.load(nodes[1].sm, buf, (u64)i, now0) < 0;
		refused++;
	}
	buf = realloc(buf, n + 1);
	buf[n] = 0;
	ok &= table_sm_ops.load(nodes[1].sm, buf, (u64)n + 1, now0) < 0;
	after = dump(nodes[1].sm);
	T_OK(ok && !strcmp(before, after),
	     "%d truncations and a trailing byte refused, the old state stays",
	     refused);
	for (i = 0; i < n * 8; i++) {
		u8 *m = malloc(n);
		int err;

		memcpy(m, buf, n);
		m[i / 8] ^= 1 << (i % 8);
		err = table_sm_ops.load(nodes[1].sm, m, (u64)n, now0);
		if (err) {
			refused++;
			after = (free(after), dump(nodes[1].sm));
			ok &= !strcmp(before, after);
		} else {
			taken++;
			ok &= dl_table_check(table_sm_table(nodes[1].sm)) == 0;
			/* Back to the state the refusals are compared with. */
			table_sm_ops.reset(nodes[1].sm);
			run(REPL_OP_ACQUIRE, 1, 1, BODY(NAME("mine")), SEC,
			    NULL);
			free(before);
			before = dump(nodes[1].sm);
		}
		free(m);
	}
	printf("# damage: %lld-byte snapshot, %d refused, %d bit flips loaded (values, tags, stamps)\n",
	       (long long)n, refused, taken);
	T_OK(ok, "every flipped bit: refused with the old state kept, or a consistent table");
	free(before);
	free(after);
	free(buf);
	nodes_fini();
}

static void case_million(int n)
{
	double t0, t1, t2, t3;
	char name[32];
	s64 len, len2;
	u8 *buf, *buf2;
	int i, ok = 1;

	nodes_init(2, 64);
	t0 = secs();
	for (i = 0; i < n; i++) {
		snprintf(name, sizeof(name), "lease/%07d", i);
		ok &= run(REPL_OP_ACQUIRE, 1 + i % 3, i % 1000,
			  BODY(.name = name, .name_len = 13, .tag = i),
			  60 * SEC, NULL) == 0;
	}
	t1 = secs();
	buf = save_buf(nodes[0].sm, &len);
	t2 = secs();
	ok &= len > 0 &&
	      table_sm_ops.load(nodes[1].sm, buf, (u64)len, now0) == 0;
	t3 = secs();
	printf("# %d leases: applied on 2 nodes in %.2f s; snapshot %lld bytes (%.1f B/lease), saved in %.2f s, loaded in %.2f s\n",
	       n, t1 - t0, (long long)len, (double)len / n, t2 - t1, t3 - t2);
	buf2 = save_buf(nodes[1].sm, &len2);
	T_OK(ok && len2 == len && !memcmp(buf, buf2, len) &&
	     table_sm_digest(nodes[1].sm) == table_sm_digest(nodes[0].sm),
	     "%d leases: saved, loaded, saved again byte for byte", n);
	free(buf);
	free(buf2);
	nodes_fini();
}

/* Uid @uid (privileged: @priv) takes lock @name for a second: its status. */
static int take(const char *name, u32 uid, bool priv)
{
	return run(REPL_OP_ACQUIRE, 1, uid, BODY(.name = name,
		   .name_len = (u8)strlen(name), .uid = uid, .privileged = priv,
		   .flags = DL_ACQ_TRY), SEC, NULL);
}

/*
 * Per-uid caps in the cluster table: which uids share the overflow slot
 * depends on the order they came in, and a node that loaded a snapshot
 * saw another one, so no uid is admitted to it.  Two uid slots and the
 * overflow here; a uid's share is 2 of the 32 leases.  Admitting uid 3
 * and 4 to the overflow (DL_PLANT_CLUSTER_UID_OVERFLOW) makes node 2,
 * which loads a snapshot, refuse what the others grant.
 */
static void case_user_slots(void)
{
	int st[5];

	sm_limits = (struct table_sm_cfg){ .max_leases = 32, .max_waiters = 32,
		.max_user_leases = DL_USER_AUTO,
		.max_user_waiters = DL_USER_AUTO, .user_slots = 3 };
	nodes_init(3, 4);
	st[0] = take("u1a", 1, false);
	st[1] = take("u2a", 2, false);
	st[2] = take("u3a", 3, false);
	st[3] = take("u4a", 4, false);
	st[4] = take("u0a", 0, true);
	T_OK(!st[0] && !st[1] && st[2] == -EDQUOT && st[3] == -EDQUOT &&
	     st[4] == -EDQUOT,
	     "uid slots: two uids hold leases, a third and a fourth are refused, root too (%d %d %d %d %d)",
	     st[0], st[1], st[2], st[3], st[4]);
	st[0] = take("u2b", 2, false);
	st[1] = take("u2c", 2, false);
	T_OK(!st[0] && st[1] == -EDQUOT,
	     "uid slots: a uid holding leases gets its share (2 of 32), then EDQUOT (%d %d)",
	     st[0], st[1]);
	run(REPL_OP_RELEASE, 1, 1, BODY(NAME("u1a"), .uid = 1), 0, NULL);
	T_OK(transfer(0, 2, now0) == 0 && nodes_equal(),
	     "uid slots: node 2 loads node 0's snapshot, same state");
	st[0] = take("u4b", 4, false);
	st[1] = take("u4c", 4, false);
	st[2] = take("u4d", 4, false);
	st[3] = take("u3b", 3, false);
	T_OK(!st[0] && !st[1] && st[2] == -EDQUOT && st[3] == -EDQUOT &&
	     nodes_equal(),
	     "uid slots: a freed slot goes to the next uid, the same answers on the node that loaded the snapshot (%d %d %d %d, mismatches %d)",
	     st[0], st[1], st[2], st[3], mismatches);
	nodes_fini();
	memset(&sm_limits, 0, sizeof(sm_limits));
}

int main(int argc, char **argv)
{
	int i, quick = 0;

	for (i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--san"))
			prefix = "san: ";
		if (!strcmp(argv[i], "--quick"))
			quick = 1;
	}
	case_midway();
	case_damage();
	case_user_slots();
	case_million(quick || *prefix ? 100000 : 1000000);
	T_OK(live_mem == 0, "every byte allocated was freed");
	return tap_done();
}
