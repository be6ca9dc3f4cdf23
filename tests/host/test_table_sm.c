// SPDX-License-Identifier: GPL-2.0
/*
 * Host tests of the table adapter (kmod/table_sm.c): three nodes apply the
 * same entries with different local clocks and must agree on every answer,
 * every wait grant and their whole state; tokens come from the log, expiry
 * and session ends only from committed entries.  Prints TAP.
 */
#include "test_table_sm.h"

#define EXCL DL_MODE_EXCLUSIVE
#define SHRD DL_MODE_SHARED
#define SEMA DL_MODE_SEMAPHORE

static struct repl_result res;

static int acq(u16 node, u32 client, const char *name, u8 mode, u64 tag,
	       u64 ttl, u32 wait_ms, u64 cookie)
{
	return run(REPL_OP_ACQUIRE, node, client, BODY(.name = name,
		   .name_len = strlen(name), .mode = mode, .tag = tag,
		   .flags = ttl ? 0 : DL_ACQ_NO_TTL, .wait_ms = wait_ms,
		   .cookie = cookie), ttl, &res);
}

static int rel(u16 node, u32 client, const char *name, u64 tag)
{
	return run(REPL_OP_RELEASE, node, client, BODY(.name = name,
		   .name_len = strlen(name), .tag = tag), 0, &res);
}

static int renew(u16 node, u32 client, const char *name, u64 tag, u64 ttl)
{
	return run(REPL_OP_RENEW, node, client, BODY(.name = name,
		   .name_len = strlen(name), .tag = tag), ttl, &res);
}

static const struct wdrec *last_wd(void)
{
	return nodes[0].nwd ? &nodes[0].wd[nodes[0].nwd - 1] : NULL;
}

static void case_basics(void)
{
	const struct wdrec *w;
	u64 t1;

	nodes_init(3, 4);
	T_OK(acq(1, 10, "a", EXCL, 1, 10 * SEC, 0, 0) == 0 && res.count == 1,
	     "acquire granted on every node");
	t1 = res.token;
	T_OK(t1 == log_token(idx), "first grant's token is the entry's log token");
	T_OK(acq(2, 20, "a", EXCL, 1, 10 * SEC, 0, 77) == REPL_QUEUED,
	     "a second client queues (REPL_QUEUED)");
	T_OK(acq(1, 10, "a", EXCL, 1, 10 * SEC, 0, 0) == 0 && res.count == 2 &&
	     res.token == t1, "reentrant acquire: same token, count 2");
	T_OK(rel(1, 10, "a", 1) == 0 && res.count == 1, "release drops one level");
	T_OK(nodes[0].nwd == 0, "no grant while the lease is held");
	T_OK(rel(1, 10, "a", 1) == 0 && res.count == 0, "last release");
	w = last_wd();
	T_OK(w && w->status == 0 && w->node == 2 && w->client == 20 &&
	     w->cookie == 77 && w->index == idx && w->token == log_token(idx),
	     "the waiter is granted in the releasing entry, with its token");
	T_OK(nodes_equal(), "three nodes: same answers, grants and state");
	T_OK(rel(2, 20, "a", 1) == 0 && table_sm_sessions(nodes[0].sm) == 0,
	     "sessions without entries are dropped");
	nodes_fini();
}

static void case_errors(void)
{
	nodes_init(3, 4);
	T_OK(acq(1, 1, "e", EXCL, 1, SEC, 0, 0) == 0, "setup");
	T_OK(run(REPL_OP_ACQUIRE, 1, 2, BODY(NAME("e"), .flags = DL_ACQ_TRY),
		 SEC, NULL) == -EAGAIN, "try on a held lock: -EAGAIN");
	T_OK(rel(1, 2, "e", 1) == -EPERM, "release by another client: -EPERM");
	T_OK(rel(1, 1, "nope", 1) == -ENOENT, "release of no lock: -ENOENT");
	T_OK(acq(1, 1, "e", SHRD, 1, SEC, 0, 0) == -EDEADLK,
	     "mode change of a held lease: -EDEADLK");
	T_OK(run(REPL_OP_ACQUIRE, 1, 1, BODY(NAME("s"), .mode = SEMA),
		 SEC, NULL) == -EINVAL, "semaphore without permits: -EINVAL");
	T_OK(run(REPL_OP_ACQUIRE, 1, 1, BODY(NAME("n")), 0, NULL) == -EINVAL,
	     "TTL 0 without the no-TTL flag: -EINVAL");
	T_OK(run(REPL_OP_ACQUIRE, 1, 1, BODY(NAME("n"), .flags = DL_ACQ_NO_TTL),
		 SEC, NULL) == -EINVAL, "no-TTL flag with a TTL: -EINVAL");
	T_OK(run(REPL_OP_BREAK, 1, 3, BODY(NAME("e")), 0, NULL) == -EPERM,
	     "break without privilege: -EPERM");
	T_OK(run(REPL_OP_CANCEL, 1, 3, BODY(NAME("e"), .cookie = 5), 0,
		 NULL) == -ENOENT, "cancel of nothing: -ENOENT");
	T_OK(renew(1, 1, "e", 1, 0) == -EINVAL, "renew with TTL 0: -EINVAL");
	T_OK(run(REPL_OP_SET_VALUE, 1, 2, BODY(NAME("e"), .tag = 1,
		 .value = "x", .value_len = 1), 0, NULL) == -EPERM,
	     "set-value by another client: -EPERM");
	T_OK(run(REPL_OP_EXPIRE, 0, 0, BODY(NAME("e"), .token = 1, .stamp = 1),
		 0, NULL) == -ENOENT, "expire of an unknown token: -ENOENT");
	T_OK(nodes_equal(), "errors are the same on every node");
	nodes_fini();
}

static void case_owners_values(void)
{
	const char *own = "backup-42";
	struct dl_entry_info in;

	nodes_init(3, 4);
	T_OK(run(REPL_OP_ACQUIRE, 1, 1, BODY(NAME("d"), .flags = DL_ACQ_DETACHED,
		 .owner = own, .owner_len = 9, .uid = 1000), 60 * SEC, &res) == 0,
	     "detached acquire");
	T_OK(run(REPL_OP_RELEASE, 2, 5, BODY(NAME("d"), .owner = own,
		 .owner_len = 9, .uid = 1001), 0, NULL) == -EPERM,
	     "detached owner from another uid: -EPERM");
	T_OK(run(REPL_OP_SET_VALUE, 2, 5, BODY(NAME("d"), .owner = own,
		 .owner_len = 9, .uid = 1000, .value = "v1", .value_len = 2),
		 0, NULL) == 0, "set-value by the owner string from another node");
	T_OK(run(REPL_OP_CLIENT_END, 1, 1, NULL, 0, NULL) == 0,
	     "the acquiring client's socket closes");
	dl_entry_info(table_sm_table(nodes[2].sm),
		      dl_holder_next(dl_lookup(table_sm_table(nodes[2].sm),
					       "d", 1), NULL), 0, &in);
	T_OK(in.value_len == 2 && !memcmp(in.value, "v1", 2) &&
	     in.owner.detached, "the detached lease and its value stay");
	T_OK(run(REPL_OP_ACQUIRE, 1, 7, BODY(NAME("sem"), .mode = SEMA,
		 .permits = 2, .tag = 1), SEC, NULL) == 0 &&
	     run(REPL_OP_ACQUIRE, 1, 8, BODY(NAME("sem"), .mode = SEMA,
		 .permits = 2, .tag = 1), SEC, NULL) == 0 &&
	     run(REPL_OP_ACQUIRE, 1, 9, BODY(NAME("sem"), .mode = SEMA,
		 .permits = 2, .tag = 1), SEC, NULL) == REPL_QUEUED,
	     "a 2-permit semaphore: two granted, the third waits");
	T_OK(run(REPL_OP_ACQUIRE, 1, 9, BODY(NAME("sem"), .mode = SEMA,
		 .permits = 3, .tag = 2), SEC, NULL) == -EINVAL,
	     "other permit count: -EINVAL");
	T_OK(run(REPL_OP_BREAK, 3, 99, BODY(NAME("sem"), .privileged = 1),
		 0, NULL) == 0 && last_wd() && last_wd()->client == 9 &&
	     last_wd()->status == 0, "break of every lease grants the waiter");
	T_OK(run(REPL_OP_ACQUIRE, 1, 9, BODY(NAME("sem"), .mode = SEMA,
		 .permits = 2, .tag = 5, .cookie = 3), SEC, NULL) == 0 &&
	     run(REPL_OP_ACQUIRE, 1, 9, BODY(NAME("sem"), .mode = SEMA,
		 .permits = 2, .tag = 6, .cookie = 4), SEC, NULL) == REPL_QUEUED &&
	     run(REPL_OP_CANCEL, 1, 9, BODY(NAME("sem"), .cookie = 4), 0,
		 NULL) == 0, "cancel of a queued acquire");
	T_OK(nodes_equal(), "owners, values, semaphores: same on every node");
	nodes_fini();
}

/*
 * A request retried across a leader change can commit after its client's
 * CLIENT_END: it must not open a session nobody will end (a lease without
 * TTL there would stay until the node itself dies).
 */
static void case_ended_client(void)
{
	nodes_init(3, 4);
	T_OK(acq(1, 5, "z", EXCL, 1, 0, 0, 0) == 0, "setup: a session-bound lease");
	T_OK(run(REPL_OP_CLIENT_END, 1, 5, NULL, 0, NULL) == 0 &&
	     !dl_lookup(table_sm_table(nodes[0].sm), "z", 1),
	     "CLIENT_END ends it");
	T_OK(acq(1, 5, "z", EXCL, 1, 0, 0, 0) == -ESHUTDOWN &&
	     !dl_lookup(table_sm_table(nodes[0].sm), "z", 1) &&
	     table_sm_sessions(nodes[0].sm) == 0,
	     "an acquire of the ended client committed later: -ESHUTDOWN, no session");
	T_OK(rel(1, 5, "z", 1) == -ESHUTDOWN &&
	     run(REPL_OP_CANCEL, 1, 5, BODY(NAME("z"), .cookie = 1), 0,
		 NULL) == -ESHUTDOWN,
	     "release and cancel of the ended client: -ESHUTDOWN");
	T_OK(run(REPL_OP_CLIENT_END, 1, 5, NULL, 0, NULL) == 0,
	     "a second CLIENT_END is harmless");
	T_OK(acq(2, 5, "z", EXCL, 1, 0, 0, 0) == 0 && rel(2, 5, "z", 1) == 0,
	     "the same client id on another node is another client");
	T_OK(transfer(0, 1, now0) == 0 &&
	     acq(1, 5, "y", EXCL, 1, 0, 0, 0) == -ESHUTDOWN,
	     "the tombstone travels in the snapshot");
	T_OK(nodes_equal(), "ended clients: same on every node");
	nodes_fini();
}

/* A cycle of two owners on two locks is refused alike everywhere. */
static void case_deadlock(void)
{
	nodes_init(3, 8);
	acq(1, 1, "x", EXCL, 1, SEC, 0, 0);
	acq(1, 2, "y", EXCL, 1, SEC, 0, 0);
	T_OK(acq(1, 1, "y", EXCL, 1, SEC, 0, 1) == REPL_QUEUED, "1 waits for 2");
	T_OK(acq(1, 2, "x", EXCL, 1, SEC, 0, 2) == -EDEADLK,
	     "2 waiting for 1 closes the cycle: -EDEADLK on every node");
	T_OK(nodes_equal(), "deadlock refusal is deterministic");
	nodes_fini();
}

/* One entry granting many waiters: tokens still increase past the log's. */
static void case_tokens(void)
{
	u64 last;
	int i, ok = 1;

	nodes_init(3, 4);
	acq(1, 1, "t", EXCL, 1, SEC, 0, 0);
	for (i = 0; i < 5; i++)
		acq(1, 10 + i, "t", SHRD, 1, SEC, 0, i);
	rel(1, 1, "t", 1);
	T_OK(nodes[0].nwd == 5, "five shared waiters granted by one release");
	for (i = 1; i < 5; i++)
		ok &= nodes[0].wd[i].token == nodes[0].wd[i - 1].token + 1;
	T_OK(ok && nodes[0].wd[0].token == log_token(idx),
	     "their tokens are the log's token, then one more each");
	last = table_sm_last_token(nodes[0].sm);
	epoch = 0;	/* a log token below the last grant's */
	acq(1, 50, "u", EXCL, 1, SEC, 0, 0);
	T_OK(res.token == last + 1, "a log token below the last grant gives last + 1");
	epoch = 1;
	T_OK(nodes_equal(), "tokens are the same on every node");
	nodes_fini();
}

static int propose(int n, u64 now, struct repl_cmd *out)
{
	return table_sm_ops.next_expired(nodes[n].sm, now, out);
}

static void case_expiry(void)
{
	struct repl_cmd e, e2;
	struct dl_entry_info in;
	struct dl_table *t;

	nodes_init(3, 4);
	acq(1, 1, "x", EXCL, 1, 10 * SEC, 0, 0);
	acq(2, 2, "x", EXCL, 1, 10 * SEC, 0, 9);
	T_OK(!propose(0, now0 + 9 * SEC, &e), "nothing due before the hold");
	T_OK(propose(0, now0 + 11 * SEC, &e) && e.op == REPL_OP_EXPIRE,
	     "the leader proposes the due lease");
	T_OK(!propose(0, now0 + 11 * SEC, &e2), "and remembers it proposed it");
	renew(1, 1, "x", 1, 10 * SEC);
	T_OK(apply_all(&e).status == -ESTALE && dl_lookup(
	     table_sm_table(nodes[1].sm), "x", 1), "an EXPIRE older than a renewal is a no-op");
	table_sm_ops.restart_leases(nodes[0].sm, now0 + 100 * SEC);
	T_OK(!propose(0, now0 + 109 * SEC, &e) &&
	     propose(0, now0 + 111 * SEC, &e),
	     "a new leader restarts the countdown at now + hold");
	T_OK(apply_all(&e).status == 0 && last_wd() && last_wd()->client == 2,
	     "a current EXPIRE ends the lease and grants the waiter");
	t = table_sm_table(nodes[0].sm);
	renew(2, 2, "x", 1, 60 * SEC);
	renew(2, 2, "x", 1, 1 * SEC);
	dl_entry_info(t, dl_holder_next(dl_lookup(t, "x", 1), NULL),
		      now0, &in);
	T_OK(in.remaining_ns > 50 * SEC && in.hold_ms >= 60000,
	     "a shorter renewal does not shorten the lease");
	acq(3, 3, "x", EXCL, 1, SEC, 500, 44);
	T_OK(propose(0, now0 + SEC, &e) && apply_all(&e).status == 0 &&
	     last_wd()->client == 3 && last_wd()->status == -ETIMEDOUT,
	     "a queued wait times out by a committed EXPIRE");
	T_OK(nodes_equal(), "expiry is the same on every node");
	nodes_fini();
}

static void case_sessions(void)
{
	struct repl_cmd *c;
	int lost;

	nodes_init(3, 4);
	acq(2, 1, "old", EXCL, 1, 0, 0, 0);		/* session-bound */
	acq(2, 1, "new", EXCL, 1, 0, 0, 0);
	acq(1, 5, "old", EXCL, 1, SEC, 0, 50);		/* waits on node 1 */
	acq(2, 2, "other", EXCL, 1, SEC, 0, 0);
	acq(2, 3, "q", EXCL, 1, SEC, 0, 0);
	acq(2, 1, "q", EXCL, 1, SEC, 0, 51);		/* old wait */
	renew(2, 1, "new", 1, SEC);			/* keep-alive */
	c = mk(REPL_OP_SESSION_END, 2, 0, NULL, 0);
	c->arg = idx - 1;				/* before the renewal */
	T_OK(apply_all(c).status == 0,
	     "SESSION_END of node 2 up to an index");
	T_OK(!dl_lookup(table_sm_table(nodes[0].sm), "other", 5) &&
	     dl_lookup(table_sm_table(nodes[0].sm), "new", 3),
	     "leases up to the cutoff end, the one renewed after it stays");
	T_OK(last_wd() && last_wd()->client == 5 && last_wd()->status == 0,
	     "the waiter on another node is granted at once");
	T_OK(run(REPL_OP_CLIENT_END, 2, 1, NULL, 0, NULL) == 0 &&
	     !dl_lookup(table_sm_table(nodes[0].sm), "new", 3),
	     "CLIENT_END ends the rest of that client's session");
	T_OK(nodes_equal(), "session ends are the same on every node");
	/*
	 * A node's client 4 holds a lock its client 7 waits for (sessions
	 * are walked in client order): ending 4's lease grants 7's wait in the
	 * middle of the SESSION_END, and that grant ends too.
	 */
	acq(2, 4, "chain", EXCL, 1, 0, 0, 0);
	acq(2, 7, "chain", EXCL, 1, 0, 0, 60);
	c = mk(REPL_OP_SESSION_END, 2, 0, NULL, 0);
	c->arg = idx;
	lost = nodes[0].nlost;
	T_OK(apply_all(c).status == 0 &&
	     !dl_lookup(table_sm_table(nodes[0].sm), "chain", 5),
	     "a wait that the SESSION_END of its node grants is ended by it too");
	T_OK(nodes[0].nlost == lost + 2,
	     "each lease it ends is told lost (its client may be alive: the node was cut off), the one just granted too (%d)",
	     nodes[0].nlost - lost);
	T_OK(nodes_equal(), "and on every node alike");
	nodes_fini();
}

static void case_decode(void)
{
	struct repl_cmd *c = mk(REPL_OP_ACQUIRE, 1, 1, BODY(NAME("z")), SEC);
	struct tsm_body b;

	T_OK(tsm_decode(c, &b) == 0 && b.name_len == 1, "a body decodes");
	c->len++;
	T_OK(tsm_decode(c, &b) == -EINVAL, "one byte too many: -EINVAL");
	c = mk(REPL_OP_RELEASE, 1, 1, BODY(NAME("z")), 0);
	c->data[8] = 1;	/* permits in a release */
	T_OK(tsm_decode(c, &b) == -EINVAL, "a field the op does not read set: -EINVAL");
	c = mk(REPL_OP_RELEASE, 1, 1, BODY(NAME("z")), 0);
	c->data[3] = 0;
	T_OK(tsm_decode(c, &b) == -EINVAL, "a length that does not add up: -EINVAL");
	nodes_init(2, 4);
	c = mk(REPL_OP_ACQUIRE, 1, 1, BODY(NAME("z")), SEC);
	c->data[0] = 9;
	T_OK(apply_all(c).status == -EINVAL && nodes_equal(),
	     "a bad body is refused alike by every node");
	nodes_fini();
}

/* Semaphores, detached owners, values, break, cancel: one of them at random. */
static void random_more(u32 r, u16 node, u32 client, int step)
{
	static const char *owners[] = { "job-a", "job-b" };
	const char *own = owners[(r >> 20) % 2];
	char val[64];

	memset(val, 'v', sizeof(val));
	switch ((r >> 21) % 7) {
	case 0:
		run(REPL_OP_ACQUIRE, node, client, BODY(NAME("sem"),
		    .mode = DL_MODE_SEMAPHORE, .permits = 2, .cookie = step,
		    .wait_ms = (r >> 24) % 2 ? 400 : 0), SEC, NULL);
		break;
	case 1:
		run(REPL_OP_RELEASE, node, client, BODY(NAME("sem")), 0, NULL);
		break;
	case 2:
		run(REPL_OP_ACQUIRE, node, client, BODY(NAME("r1"),
		    .flags = DL_ACQ_DETACHED, .owner = own, .owner_len = 5,
		    .uid = (r >> 25) % 2, .cookie = step), 2 * SEC, NULL);
		break;
	case 3:
		run((r >> 24) % 2 ? REPL_OP_RELEASE : REPL_OP_RENEW, node,
		    client, BODY(NAME("r1"), .owner = own, .owner_len = 5,
		    .uid = (r >> 25) % 2), SEC, NULL);
		break;
	case 4:
		run(REPL_OP_SET_VALUE, node, client, BODY(NAME("r2"),
		    .tag = (r >> 24) % 2, .value = val,
		    .value_len = (r >> 25) % 64), 0, NULL);
		break;
	case 5:
		run(REPL_OP_BREAK, 1, 99, BODY(NAME("r3"), .privileged = 1),
		    0, NULL);
		break;
	default:
		run(REPL_OP_CANCEL, node, client, BODY(NAME("r0"),
		    .cookie = step - (r >> 24) % 8), 0, NULL);
		break;
	}
}

/* Random commands on a few names, a node catching up by snapshot now and then. */
static void case_random(void)
{
	const char *names[] = { "r0", "r1", "r2", "r3" };
	static struct repl_cmd pend[64];
	unsigned int seed = 12345;
	int npend = 0;
	int step, ok = 1, snaps = 0, st[8] = { 0 };

	nodes_init(3, 4);
	for (step = 0; step < 8000 && ok; step++) {
		u32 r = rand_r(&seed);
		u32 client = r % 6, node = 1 + client % 3;
		const char *nm = names[(r >> 8) % 4];
		u8 mode = (r >> 12) % 3 == 0 ? SHRD : EXCL;

		switch ((r >> 16) % 10) {
		case 0: case 1: case 2:
			acq(node, client, nm, mode, (r >> 20) % 2,
			    (r >> 22) % 4 ? SEC : 0, (r >> 24) % 2 ? 300 : 0,
			    step);
			st[0] += res.status == 0;
			st[1] += res.status == REPL_QUEUED;
			st[2] += res.status == -EDEADLK;
			break;
		case 3: case 4:
			rel(node, client, nm, (r >> 20) % 2);
			break;
		case 5:
			renew(node, client, nm, (r >> 20) % 2, 2 * SEC);
			break;
		case 6:
		case 7:
			if ((r >> 16) % 10 == 7) {
				random_more(r, node, client, step);
				break;
			}
			now0 += 200 * MS;
			/* Some commit later, after renewals: stale ones. */
			while (npend < 64 && propose(0, now0, &pend[npend]))
				npend++;
			while (npend && (rand_r(&seed) % 3))
				st[3 + !!apply_all(&pend[--npend]).status]++;
			break;
		case 8:
			if ((r >> 20) % 4 == 0)
				run(REPL_OP_CLIENT_END, node, client, NULL, 0, NULL);
			else if ((r >> 20) % 4 == 1) {
				struct repl_cmd *c = mk(REPL_OP_SESSION_END,
							node, 0, NULL, 0);

				c->arg = idx > 20 ? idx - 20 : 0;
				apply_all(c);
			}
			break;
		default:
			if (transfer(0, 1 + (r >> 20) % 2, now0) == 0)
				snaps++;
			break;
		}
		ok &= nodes_equal();
		ok &= table_sm_digest(nodes[1].sm) == table_sm_digest(nodes[0].sm);
	}
	for (step = 0; step < nodes[0].nwd; step++)
		st[5 + !!nodes[0].wd[step].status]++;
	printf("# random: %d granted, %d queued, %d deadlocks, %d expiries (%d stale), %d waits granted, %d timed out, %d snapshots\n",
	       st[0], st[1], st[2], st[3], st[4], st[5], st[6], snaps);
	T_OK(ok && snaps > 100 && st[2] && st[5] && st[6] && st[3],
	     "8000 random entries of every op, %d snapshots: nodes equal at every index",
	     snaps);
	nodes_fini();
}

struct doubt_seen {
	int n;
	u64 tokens;		/* sum, to see each lease once */
	bool bad;
};

static void doubt_one(void *arg, const struct dl_lost *ls)
{
	struct doubt_seen *d = arg;

	d->n++;
	d->tokens += ls->token;
	d->bad |= ls->reason != DL_LOST_IN_DOUBT || ls->tag != 7 ||
		  ls->name_len != 2 || ls->name[0] != 'd';
}

/* A node's view of its clients' leases when its session runs out. */
static void case_each_lease(void)
{
	struct doubt_seen d = {};
	u64 sum = 0, digest;
	char name[3] = "d0";
	int i;

	nodes_init(3, 8);
	for (i = 0; i < 6; i++) {	/* names spread over the shards */
		name[1] = (char)('0' + i);
		acq(1, 4, name, EXCL, 7, i % 2 ? SEC : 0, 0, 0);
		sum += res.token;
	}
	acq(1, 4, "w", EXCL, 7, SEC, 0, 0);
	rel(1, 4, "w", 7);		/* ended: not reported */
	acq(1, 5, "d0", EXCL, 7, SEC, 0, 9);	/* another client's wait */
	acq(2, 4, "x", EXCL, 7, SEC, 0, 0);	/* client 4 of another node */
	digest = table_sm_digest(nodes[0].sm);
	table_sm_each_lease(nodes[0].sm, 1, 4, DL_LOST_IN_DOUBT, doubt_one, &d);
	T_OK(d.n == 6 && d.tokens == sum && !d.bad,
	     "each lease of (node 1, client 4), in every shard, once, as in doubt (%d seen)",
	     d.n);
	memset(&d, 0, sizeof(d));
	table_sm_each_lease(nodes[0].sm, 1, 5, DL_LOST_IN_DOUBT, doubt_one, &d);
	table_sm_each_lease(nodes[0].sm, 1, 99, DL_LOST_IN_DOUBT, doubt_one, &d);
	T_OK(d.n == 0, "a client that only waits, or none: nothing");
	T_OK(table_sm_digest(nodes[0].sm) == digest && nodes_equal(),
	     "the walk changes nothing");
	nodes_fini();
}

struct told {
	int n;
	u64 token;
	bool bad;
};

static void told_one(void *arg, const struct dl_lost *ls)
{
	struct told *t = arg;

	t->n++;
	t->token = ls->token;
	t->bad |= ls->reason != DL_LOST_EXPIRED || ls->tag != 3 ||
		  (u32)dl_session_id(ls->sess) != 1;
}

static int overdue(int n, u64 at, u64 *token)
{
	struct told t = {};

	table_sm_overdue(nodes[n].sm, (u16)n, at + nodes[n].skew, 64,
			 told_one, &t);
	if (token)
		*token = t.token;
	return t.bad ? -1 : t.n;
}

/*
 * Nodes that are not the leader count their clients' leases as the holders
 * may (kmod/table_holder.c): from the time apply() is given, over the hold
 * shrunk by the drift and less a tenth; each is told once, an EXPIRE or a
 * doubt of a lease told tells nothing more, a renewal counts afresh.
 */
static void case_holder_view(void)
{
	u64 t0 = now0, due, tok, gone = 0;
	struct repl_cmd e;
	struct doubt_seen d = {};
	int lost1;

	nodes_init(3, 4);
	table_sm_ops.holder_view(nodes[1].sm, 0);
	table_sm_ops.holder_view(nodes[2].sm, 0);
	acq(1, 1, "h", EXCL, 3, SEC, 0, 0);	/* hold 1010 ms */
	due = table_sm_next_due(nodes[1].sm) - (t0 + nodes[1].skew);
	T_OK(due >= 1010 * MS * 998 / 1000 - 102 * MS &&
	     due <= 1010 * MS * 998 / 1000 - 100 * MS,
	     "a node not the leader counts a lease of 1010 ms hold to %llu ms (drift, less a tenth)",
	     (unsigned long long)(due / MS));
	T_OK(!table_sm_next_due(nodes[0].sm), "the leader counts none so");
	T_OK(overdue(1, t0 + due - MS, NULL) == 0 &&
	     overdue(1, t0 + due, &tok) == 1 && tok == res.token,
	     "the holder's node tells it when that runs out, not before");
	T_OK(overdue(1, t0 + 5 * SEC, NULL) == 0, "once");
	T_OK(overdue(2, t0 + 5 * SEC, NULL) == 0,
	     "another node tells nothing of leases of clients not its own");
	table_sm_each_lease(nodes[1].sm, 1, 1, DL_LOST_IN_DOUBT, doubt_one, &d);
	T_OK(d.n == 0, "nor does the node's doubt tell it again");
	lost1 = nodes[1].nlost;
	T_OK(propose(0, t0 + 2 * SEC, &e) && apply_all(&e).status == 0 &&
	     nodes[1].nlost == lost1 && nodes[0].nlost > 0,
	     "the EXPIRE that ends it tells nothing more on the holder's node");
	acq(1, 1, "h", EXCL, 3, SEC, 0, 0);
	T_OK(overdue(1, t0 + SEC, NULL) == 1, "a new lease of the same name: told");
	now0 = t0 + 800 * MS;
	renew(1, 1, "h", 3, SEC);
	T_OK(overdue(1, now0 + 800 * MS, NULL) == 0 &&
	     overdue(1, now0 + 910 * MS, NULL) == 1,
	     "a renewal applied after it was told counts afresh from its apply");
	table_sm_ops.restart_leases(nodes[1].sm, now0 + 3 * SEC);
	table_sm_ops.holder_view(nodes[1].sm, now0 + 3 * SEC);
	due = table_sm_next_due(nodes[1].sm);
	T_OK(due && due < now0 + 920 * MS,
	     "a node that leads a while and steps down keeps the bound it counted before: its restarted countdown is none");
	table_sm_ops.holder_view(nodes[0].sm, now0 - 300 * MS);
	due = table_sm_next_due(nodes[0].sm);
	T_OK(due > now0 - 300 * MS + 900 * MS && due < now0 - 300 * MS + 910 * MS,
	     "a leader that steps down counts its own leases as bounds from its last quorum time, if earlier than their grants");
	table_sm_ops.restart_leases(nodes[0].sm, now0 + 3 * SEC);
	T_OK(!table_sm_next_due(nodes[0].sm) && propose(0, now0 + 4011 * MS, &e) &&
	     !propose(0, now0 + 4009 * MS, &e),
	     "and one that becomes leader again restarts them at now + hold");
	while (propose(0, now0 + 10 * SEC, &e))
		gone += apply_all(&e).status == 0;
	T_OK(nodes_equal() && gone, "the nodes' states stay the same");
	now0 = t0;
	nodes_fini();
}

int main(int argc, char **argv)
{
	if (argc > 1 && !strcmp(argv[1], "--san"))
		prefix = "san: ";
	case_basics();
	case_errors();
	case_owners_values();
	case_ended_client();
	case_deadlock();
	case_tokens();
	case_expiry();
	case_sessions();
	case_each_lease();
	case_holder_view();
	case_decode();
	case_random();
	T_OK(live_mem == 0, "every byte allocated was freed");
	return tap_done();
}
