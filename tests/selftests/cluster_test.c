// SPDX-License-Identifier: GPL-2.0
/*
 * Cluster mode in one guest: three network namespaces (made by
 * cluster_test.sh, joined by a bridge) configured as the nodes of one
 * cluster with raw netlink, then lock commands on each node, listings and
 * status counts on each node (cluster_list.h), watch events, tracepoints
 * and lag (cluster_obs.h), and faults from outside: a
 * socket closed, a malformed datagram, the leader's namespace deleted, a
 * node leaving.  Prints TAP.
 *
 * Usage: cluster_test NS1 NS2 NS3   (addresses 10.77.0.1..3, port 7400)
 */
#define _GNU_SOURCE
#include "cluster_lib.h"
#include "cluster_list.h"
#include "cluster_obs.h"

/* ---- the test --------------------------------------------------------- */

static int link_set(int n, const char *state)
{
	char cmd[160];

	snprintf(cmd, sizeof(cmd), "ip -n %s link set eth0 %s", nodes[n].ns,
		 state);
	return system(cmd);
}

/* The leader now (@L) and two followers (@A, @B); @C is the leader too. */
static int next_roles(int *L, int *A, int *B, int *C, uint64_t *term,
		      const char *after)
{
	*L = wait_leader(15000, term);
	tap_ok(*L >= 0, "a leader after %s (node %d)", after, *L);
	if (*L < 0)
		return -1;
	*A = (*L + 1) % N;
	*B = (*L + 2) % N;
	*C = *L;
	return 0;
}

/* Whether GET of @name on @c shows a waiter. */
static bool has_waiter(struct client *c, const char *name)
{
	struct nlraw_reply r;
	struct nlraw_msg m;

	nlraw_init(&m, c->family, DLOCK_CMD_GET, DLOCK_GENL_VERSION);
	put_name(&m, name, 0);
	if (nlraw_talk(c->fd, &m, &r) || r.error)
		return false;
	return nlraw_attr(&r.msg, r.len, DLOCK_A_WAITER) != NULL;
}

/*
 * The first note on @c that is a WAIT_DONE, an overflow (ENOBUFS) or a
 * LOST other than in doubt, 0 if none.  A LOST of a lease in doubt may come on a slow guest: the delay
 * that times the acquires out also shortens the node's session.
 */
static int quiet_notes(struct client *c, struct note *n)
{
	int got;

	while ((got = next_note(c, 0, n)) != -ETIMEDOUT)
		if (got < 0 || got == DLOCK_CMD_WAIT_DONE ||
		    (got == DLOCK_CMD_LOST && n->reason != DLOCK_LOST_IN_DOUBT))
			return got;
	return 0;
}

static int set_param(const char *name, unsigned int val)
{
	char path[128];
	FILE *f;
	int err;

	snprintf(path, sizeof(path), "/sys/module/dlock/parameters/%s", name);
	f = fopen(path, "w");
	if (!f)
		return -1;
	err = fprintf(f, "%u\n", val) < 0;
	return fclose(f) || err ? -1 : 0;
}

static int set_answer_ms(unsigned int ms)
{
	return set_param("cluster_answer_ms", ms);
}

/*
 * A try on follower @A while the leader is in its lock-delay: the leader
 * refuses the forwarded command back, so the client hears EAGAIN ("retry")
 * when its answer window ends, not ETIMEDOUT ("may still take effect").
 * The lock-delay is one max TTL from the start (6 s in this run), the
 * window 500 ms.
 */
static void test_delay_refused(int A)
{
	struct result res;
	uint64_t t0;

	set_answer_ms(500);
	t0 = now_ms();
	try_lock(&nodes[A].cl, lname("cldelay"), &res);
	tap_ok(res.error == EAGAIN && strstr(res.extack, "lock-delay") &&
	       now_ms() - t0 >= 450,
	       "a follower's try in the leader's lock-delay: EAGAIN after its 500 ms window, not ETIMEDOUT (%llu ms, error %d \"%s\")",
	       (unsigned long long)(now_ms() - t0), res.error, res.extack);
	set_answer_ms(3000);
}

/* Delays every datagram node @n sends by @ms (0: no longer). */
static int netem_delay(int n, int ms)
{
	char cmd[200];

	if (ms)
		snprintf(cmd, sizeof(cmd),
			 "ip netns exec %s tc qdisc add dev eth0 root netem delay %dms",
			 nodes[n].ns, ms);
	else
		snprintf(cmd, sizeof(cmd),
			 "ip netns exec %s tc qdisc del dev eth0 root",
			 nodes[n].ns);
	return system(cmd);
}

/*
 * A try that times out on node B (300 ms window, B's datagrams delayed
 * 700 ms) and a second one its client sends at once (5 s window): the
 * orphan's grant comes while the second is in flight, so the orphan work
 * finds the client busy, and the second request, once answered, gives the
 * grant back itself before it returns.  Node B's counters show both
 * grants and that one release by then.
 */
static void test_orphan_next(int B)
{
	const char *g = lname("clon"), *h = lname("clon2");
	struct cl_counts s0, s1;
	struct result res, rh;
	struct client og;
	uint64_t held;
	int err;

	open_in(&nodes[B], &og);
	cl_try(&og, lname("clo2"), &res);
	cl_release(&og, lname("clo2"), &res);
	cl_status(&nodes[B].cl, &s0);
	err = set_answer_ms(300) || netem_delay(B, 700);
	try_lock(&og, g, &res);
	err |= set_answer_ms(5000);
	try_lock(&og, h, &rh);
	held = holder_token(&nodes[B].cl, g);
	cl_status(&nodes[B].cl, &s1);
	err |= netem_delay(B, 0) || set_answer_ms(3000);
	tap_ok(!err && res.error == ETIMEDOUT && !rh.error,
	       "orphans: a try on node B times out, the next one is granted (errors %d \"%s\", %d \"%s\")",
	       res.error, res.extack, rh.error, rh.extack);
	tap_ok(!held && s1.grants == s0.grants + 2 &&
	       s1.releases == s0.releases + 1,
	       "orphans: when the next request returns, the first one's late grant is already given back (held %llu, grants +%llu, releases +%llu)",
	       (unsigned long long)held,
	       (unsigned long long)(s1.grants - s0.grants),
	       (unsigned long long)(s1.releases - s0.releases));
	cl_release(&og, h, &res);
	client_close(&og);
}

/*
 * Acquires that time out on node B (answer window 300 ms, B's datagrams
 * delayed 700 ms) and are applied afterwards: a try granted late, a
 * blocking acquire queued late behind A's lease.  Neither client knows it
 * has anything, and neither sends another request: node B gives the lease
 * back and cancels the wait by itself, and tells the clients nothing.
 */
static void test_orphans(int A, int B)
{
	const char *g = lname("clog"), *q = lname("cloq");
	struct acq wq = { .name = q, .flags = DLOCK_F_NO_TTL, .cookie = 66 };
	struct client og, oq, ha;
	struct result res, rq;
	bool seen_g = false, seen_q = false, freed = false;
	struct note note;
	uint64_t end;
	int err, n1, n2;

	open_in(&nodes[B], &og);
	open_in(&nodes[B], &oq);
	open_in(&nodes[A], &ha);
	cl_try(&ha, q, &res);
	tap_ok(!res.error, "orphans: node A holds the lock a wait will queue on (error %d)",
	       res.error);
	/* both sockets become clients, holding nothing */
	cl_try(&og, lname("clo0"), &res);
	cl_release(&og, lname("clo0"), &res);
	cl_try(&oq, lname("clo1"), &rq);
	cl_release(&oq, lname("clo1"), &rq);
	err = set_answer_ms(300) || netem_delay(B, 700);
	try_lock(&og, g, &res);
	acquire(&oq, &wq, &rq);
	err |= set_answer_ms(3000);
	tap_ok(!err && res.error == ETIMEDOUT && rq.error == ETIMEDOUT,
	       "orphans: a try and a blocking acquire on node B time out (errors %d %d, \"%s\")",
	       res.error, rq.error, res.extack);
	/*
	 * The delay stays until both were seen applied (a qdisc removed drops
	 * what it holds), and it delays B's undoing as much.
	 */
	end = now_ms() + 5000;
	while (!(seen_g && seen_q) && now_ms() < end) {
		seen_g |= holder_token(&nodes[A].cl, g) != 0;
		seen_q |= has_waiter(&nodes[A].cl, q);
		nap(20);
	}
	err = netem_delay(B, 0);
	tap_ok(!err && seen_g, "orphans: the timed-out try was applied after all: the lock was held");
	tap_ok(seen_q, "orphans: the timed-out blocking acquire was applied after all: it waited");
	cl_release(&ha, q, &res);
	end = now_ms() + 5000;
	while (!freed && now_ms() < end) {
		freed = !holder_token(&nodes[A].cl, g) &&
			!holder_token(&nodes[A].cl, q) &&
			!has_waiter(&nodes[A].cl, q);
		nap(50);
	}
	tap_ok(freed, "orphans: without another request of theirs, node B gave the grant back and ended the wait");
	n1 = quiet_notes(&og, &note);
	n2 = quiet_notes(&oq, &note);
	tap_ok(!n1 && !n2,
	       "orphans: neither client was sent a WAIT_DONE or an ENOBUFS about them (notes %d %d)",
	       n1, n2);
	cl_try(&nodes[A].cl, g, &res);
	cl_try(&nodes[A].cl, q, &rq);
	tap_ok(!res.error && !rq.error,
	       "orphans: node A takes both locks (errors %d \"%s\", %d \"%s\")",
	       res.error, res.extack, rq.error, rq.extack);
	cl_release(&nodes[A].cl, g, &res);
	cl_release(&nodes[A].cl, q, &rq);
	client_close(&og);
	client_close(&oq);
	client_close(&ha);
}

/* GET of @name with DLOCK_A_LINEARIZABLE: its holder's token, 0: none. */
static uint64_t holder_token_lin(struct client *c, const char *name,
				 struct nlraw_reply *r)
{
	struct nlraw_msg m;
	struct nlattr *h;

	nlraw_init(&m, c->family, DLOCK_CMD_GET, DLOCK_GENL_VERSION);
	put_name(&m, name, 0);
	nlraw_put(&m, DLOCK_A_LINEARIZABLE, NULL, 0);
	if (nlraw_talk(c->fd, &m, r) || r->error)
		return 0;
	h = nlraw_attr(&r->msg, r->len, DLOCK_A_HOLDER);
	return h ? nest_u64(h, DLOCK_E_TOKEN) : 0;
}

/*
 * The leader's datagrams are delayed 150 ms: a lock it grants is answered
 * to its client once a follower acknowledged it, and follower B learns of
 * the commit only 150 ms later.  A plain GET on B right after the answer
 * misses the lease; a linearizable one waits for its barrier and shows it.
 */
static void test_linearizable(int L, int B)
{
	const char *x = lname("cll");
	struct nlraw_reply r;
	struct result res;
	uint64_t t0, tok;
	int err;

	err = netem_delay(L, 150);
	cl_try(&nodes[L].cl, x, &res);
	t0 = now_ms();
	tap_ok(!err && !res.error, "linearizable: the leader (its datagrams delayed 150 ms) grants a lock (error %d \"%s\")",
	       res.error, res.extack);
	tap_ok(holder_token(&nodes[B].cl, x) == 0,
	       "linearizable: a plain GET on node B right after does not show it yet (%llu ms later)",
	       (unsigned long long)(now_ms() - t0));
	tok = holder_token_lin(&nodes[B].cl, x, &r);
	tap_ok(tok == res.token,
	       "linearizable: a linearizable GET on node B shows it, after %llu ms (error %d \"%s\")",
	       (unsigned long long)(now_ms() - t0), r.error, r.extack);
	err = netem_delay(L, 0);
	cl_release(&nodes[L].cl, x, &res);
	tap_ok(!err && !res.error, "linearizable: released, the delay lifted (error %d)",
	       res.error);
}

/*
 * Follower B is cut off while a client of B holds a lock without TTL and a
 * client of A waits for it.  The holder must hear that its lease is in
 * doubt (LOST, DLOCK_LOST_IN_DOUBT) before A's waiter is granted the lock
 * (after B's node-session timeout), and not long before: its node's
 * session is most of cluster_session_ms (3 s here).
 */
static void test_doubt(int A, int B)
{
	const char *d = lname("cld");
	struct acq a = { .name = d, .flags = DLOCK_F_NO_TTL, .cookie = 55 };
	struct client hb, wa;
	struct result res;
	struct note lost, grant;
	uint64_t t_cut, t_lost, tb;
	int got, early;

	open_in(&nodes[B], &hb);
	open_in(&nodes[A], &wa);
	cl_try(&hb, d, &res);
	tb = res.token;
	tap_ok(!res.error, "doubt: a lock without TTL held by a client of node B (error %d \"%s\")",
	       res.error, res.extack);
	cl_acquire(&wa, &a, &res);
	tap_ok(!res.error && res.queued, "doubt: a client of node A waits for it (error %d \"%s\")",
	       res.error, res.extack);
	t_cut = now_ms();
	tap_ok(link_set(B, "down") == 0, "doubt: node B's link down");
	got = next_note(&hb, 8000, &lost);
	t_lost = now_ms();
	early = next_note(&wa, 0, &grant);
	tap_ok(got == DLOCK_CMD_LOST && lost.reason == DLOCK_LOST_IN_DOUBT &&
	       !strcmp(lost.name, d) && lost.token == tb,
	       "doubt: B's holder gets LOST, reason in doubt, naming its lease, %llu ms after the cut (note %d, reason %d)",
	       (unsigned long long)(t_lost - t_cut), got, lost.reason);
	tap_ok(early < 0,
	       "doubt: A's waiter was not granted before that (note %d, reason %d, token %llx, name %s)",
	       early, grant.reason, (unsigned long long)grant.token,
	       grant.name);
	tap_ok(t_lost - t_cut >= 2000,
	       "doubt: not before most of the session timeout ran out (%llu ms of 3000)",
	       (unsigned long long)(t_lost - t_cut));
	got = cl_note(&wa, 10000, &grant);
	tap_ok(got == DLOCK_CMD_WAIT_DONE && grant.cookie == 55 && !grant.error &&
	       grant.token > tb,
	       "doubt: then A's waiter is granted, %llu ms after the cut (note %d, error %u)",
	       (unsigned long long)(now_ms() - t_cut), got, grant.error);
	tap_ok(link_set(B, "up") == 0, "doubt: node B's link up again");
	t_cut = now_ms() + 15000;
	while (holder_token(&hb, d) != grant.token && now_ms() < t_cut)
		nap(100);
	tap_ok(holder_token(&hb, d) == grant.token,
	       "doubt: node B catches up: A's client holds the lock there");
	cl_release(&wa, d, &res);
	tap_ok(!res.error, "doubt: released on node A (error %d \"%s\")",
	       res.error, res.extack);
	client_close(&hb);
	client_close(&wa);
}

/*
 * A node cut off while one of its clients has an orphan: a try that timed
 * out (300 ms window, B's datagrams delayed 1.5 s), granted late, its
 * undoing still in the delay when B's link goes down.  The in-doubt LOSTs
 * then name the lease the client holds, not the orphan's, which it never
 * heard of.
 */
static void test_doubt_orphan(int B)
{
	const char *d = lname("cldo"), *o = lname("cldo-orphan");
	struct client hb;
	struct result res, ro;
	struct note lost;
	uint64_t end, tb, to = 0;
	int got, more, err;

	open_in(&nodes[B], &hb);
	cl_try(&hb, d, &res);
	tb = res.token;
	err = set_answer_ms(300) || netem_delay(B, 1500);
	try_lock(&hb, o, &ro);
	err |= set_answer_ms(3000);
	end = now_ms() + 5000;
	while (!to && now_ms() < end) {
		to = holder_token(&nodes[B].cl, o);
		nap(10);
	}
	err |= link_set(B, "down");
	tap_ok(!err && !res.error && ro.error == ETIMEDOUT && to,
	       "doubt and orphans: node B's client holds a lock, its timed-out try was granted late, B's link down (errors %d %d, orphan token %llu)",
	       res.error, ro.error, (unsigned long long)to);
	got = next_note(&hb, 8000, &lost);
	tap_ok(got == DLOCK_CMD_LOST && lost.reason == DLOCK_LOST_IN_DOUBT &&
	       !strcmp(lost.name, d) && lost.token == tb,
	       "doubt and orphans: the first LOST names the lease the client holds (note %d, reason %d, name %s)",
	       got, lost.reason, got > 0 ? lost.name : "-");
	more = next_note(&hb, 1000, &lost);
	tap_ok(more == -ETIMEDOUT,
	       "doubt and orphans: no LOST names the orphan's lease (note %d, name %s)",
	       more, more > 0 ? lost.name : "-");
	/*
	 * Whether B's session outlived the cut depends on how long it took:
	 * the held lease may survive, the orphan's is undone either way.
	 */
	err = link_set(B, "up") || netem_delay(B, 0);
	end = now_ms() + 15000;
	while (holder_token(&nodes[B].cl, o) && now_ms() < end)
		nap(100);
	tap_ok(!err && !holder_token(&nodes[B].cl, o),
	       "doubt and orphans: back in the cluster, the orphan's lease is given back");
	cl_release(&hb, d, &res);
	client_close(&hb);
}

int main(int argc, char **argv)
{
	struct nlraw_reply r;
	struct nlraw_msg m;
	struct cl_state st, st2;
	struct result res;
	struct note note;
	uint64_t term, term2 = 0, t1, t2;
	int L, A, B, C, L2, i;
	char cmd[128];

	if (argc != N + 1) {
		fprintf(stderr, "usage: %s NS1 NS2 NS3\n", argv[0]);
		return 2;
	}
	rootfd = open("/proc/self/ns/net", O_RDONLY);
	if (rootfd < 0)
		die("open root ns");
	for (i = 0; i < N; i++) {
		char path[128];

		nodes[i].ns = argv[i + 1];
		nodes[i].id = 10 * (i + 1);	/* ids need not be 1..n */
		snprintf(nodes[i].ip, sizeof(nodes[i].ip), "10.77.0.%d", i + 1);
		snprintf(path, sizeof(path), "/var/run/netns/%s", argv[i + 1]);
		nodes[i].nsfd = open(path, O_RDONLY);
		if (nodes[i].nsfd < 0)
			die(path);
		open_in(&nodes[i], &nodes[i].cl);
	}

	/* Single-node mode first. */
	get_cluster(&nodes[0].cl, &st);
	tap_ok(!st.error && st.role == DLOCK_ROLE_NONE,
	       "GET_CLUSTER before configuring: role none (error %d)", st.error);
	tap_ok(status_role(&nodes[0].cl) == DLOCK_ROLE_NONE,
	       "GET_STATUS carries role none in single-node mode");

	/* Refused configurations change nothing and say why. */
	build_conf(&m, nodes[0].cl.family, 0);
	m.nh.nlmsg_len = NLMSG_LENGTH(GENL_HDRLEN);
	nlraw_put(&m, DLOCK_A_CLUSTER_ID, &nodes[0].id, 4);
	tap_ok(set_conf(&nodes[0], &m, &r) == EINVAL &&
	       strstr(r.extack, "missing UDP port"),
	       "SET_CLUSTER without a port refused: \"%s\"", r.extack);
	/* Node 1's configuration (peers: nodes 0 and 2) with node 0's id. */
	build_conf(&m, nodes[0].cl.family, 1);
	memcpy((char *)&m + NLMSG_LENGTH(GENL_HDRLEN) + NLA_HDRLEN,
	       &nodes[0].id, 4);
	tap_ok(set_conf(&nodes[0], &m, &r) == EINVAL &&
	       strstr(r.extack, "own id"),
	       "SET_CLUSTER with a peer of our own id refused: \"%s\"",
	       r.extack);
	get_cluster(&nodes[0].cl, &st);
	tap_ok(st.role == DLOCK_ROLE_NONE, "refused configurations changed nothing");

	/*
	 * Configure the three nodes, with a lock-delay (one max TTL) long
	 * enough for test_delay_refused(); the instances keep it.
	 */
	set_param("cluster_max_ttl_ms", 6000);
	for (i = 0; i < N; i++) {
		int err;

		build_conf(&m, nodes[i].cl.family, i);
		err = set_conf(&nodes[i], &m, &r);
		tap_ok(err == 0, "SET_CLUSTER on node %u (error %d \"%s\")",
		       nodes[i].id, err, r.extack);
	}
	set_param("cluster_max_ttl_ms", 1000);
	L = wait_leader(15000, &term);
	tap_ok(L >= 0, "one leader elected, every node names it, same term");
	if (L < 0)
		return tap_done();
	A = (L + 1) % N;
	B = (L + 2) % N;
	C = L;
	test_delay_refused(A);
	tap_ok(status_role(&nodes[L].cl) == DLOCK_ROLE_LEADER &&
	       status_role(&nodes[A].cl) == DLOCK_ROLE_FOLLOWER,
	       "GET_STATUS carries the cluster role");

	/* Same configuration again: no change (the instance keeps counting). */
	get_cluster(&nodes[A].cl, &st);
	build_conf(&m, nodes[A].cl.family, A);
	set_conf(&nodes[A], &m, &r);
	get_cluster(&nodes[A].cl, &st2);
	tap_ok(!r.error && st2.role == DLOCK_ROLE_FOLLOWER &&
	       st2.term == st.term && st.npeers == 2 &&
	       peer_of(&st2, nodes[B].id)->tx >= peer_of(&st, nodes[B].id)->tx,
	       "the same configuration again changes nothing (role %u, tx %llu -> %llu)",
	       st2.role, (unsigned long long)peer_of(&st, nodes[B].id)->tx,
	       (unsigned long long)peer_of(&st2, nodes[B].id)->tx);

	/* A lock on follower A: held for B and C, then B takes it after. */
	const char *x = lname("clx");

	i = lock_retry(&nodes[A].cl, x, 15000, &res);
	tap_ok(!i && res.token,
	       "lock taken on node A (a follower) after the lock-delay: token %llu (error %d \"%s\")",
	       (unsigned long long)res.token, res.error, res.extack);
	t1 = res.token;
	tap_ok(refused_held(&nodes[B].cl, x), "try on node B: lock is held");
	tap_ok(refused_held(&nodes[C].cl, x), "try on node C (leader): lock is held");
	t2 = wait_holder_token(&nodes[B].cl, x, 3000);
	tap_ok(t2 == t1, "GET on node B shows A's lease from its applied table (token %llu)",
	       (unsigned long long)t2);
	/* The dump and the status, on every node (cluster_list.h). */
	test_list_one(x, t1);
	test_list_users(x, A, B);
	test_list_many(L, B);
	cl_release(&nodes[A].cl, x, &res);
	tap_ok(!res.error && res.count == 0, "released on node A (error %d \"%s\")",
	       res.error, res.extack);
	cl_try(&nodes[B].cl, x, &res);
	tap_ok(!res.error && res.token > t1,
	       "taken on node B with a greater token (%llu > %llu)",
	       (unsigned long long)res.token, (unsigned long long)t1);
	t2 = res.token;

	/* Queued on A while B holds; B's release grants A: WAIT_DONE. */
	{
		struct acq a = { .name = x, .flags = DLOCK_F_NO_TTL,
				 .cookie = 77 };

		cl_acquire(&nodes[A].cl, &a, &res);
		tap_ok(!res.error && res.queued, "blocking acquire on node A queued (error %d \"%s\")",
		       res.error, res.extack);
		cl_release(&nodes[B].cl, x, &res);
		i = cl_note(&nodes[A].cl, 3000, &note);
		tap_ok(i == DLOCK_CMD_WAIT_DONE &&
		       note.cookie == 77 && !note.error && note.token > t2 &&
		       !strcmp(note.name, x),
		       "node A gets WAIT_DONE naming the lock with a greater token (note %d, token %llu, error %u)",
		       i, (unsigned long long)note.token, note.error);
		cl_release(&nodes[A].cl, x, &res);
		tap_ok(!res.error, "released on node A");
	}

	/* Watch events, tracepoints, lag (cluster_obs.h). */
	get_cluster(&nodes[L].cl, &st);
	printf("# before the watch and trace checks: term %llu\n",
	       (unsigned long long)st.term);
	test_watch_trace(A, B);
	test_lag();

	/* A holder's socket closing on A frees the lock cluster-wide. */
	{
		struct client tmp;
		const char *y = lname("cly");
		uint64_t end;
		bool freed = false;

		open_in(&nodes[A], &tmp);
		cl_try(&tmp, y, &res);
		tap_ok(!res.error, "lock taken by a second socket on node A");
		tap_ok(refused_held(&nodes[B].cl, y), "held for node B");
		client_close(&tmp);
		end = now_ms() + 5000;
		while (!freed && now_ms() < end) {
			cl_try(&nodes[B].cl, y, &res);
			freed = !res.error;
			if (!freed)
				nap(100);
		}
		tap_ok(freed, "the holder's socket closed: node B takes the lock");
		cl_release(&nodes[B].cl, y, &res);
	}

	/*
	 * Each of these delays or cuts one node's datagrams; on a slow guest
	 * (the debug kernel) that may move the leadership, so the roles are
	 * looked up again before each (elections fell earlier on it, too).
	 */
	if (next_roles(&L, &A, &B, &C, &term, "the first tests"))
		return tap_done();
	test_linearizable(C, B);
	if (next_roles(&L, &A, &B, &C, &term, "the delay lifted"))
		return tap_done();
	test_orphans(A, B);
	if (next_roles(&L, &A, &B, &C, &term, "the orphans test"))
		return tap_done();
	test_orphan_next(B);
	if (next_roles(&L, &A, &B, &C, &term, "the next-request orphan test"))
		return tap_done();
	test_doubt(A, B);
	if (next_roles(&L, &A, &B, &C, &term, "node B is back"))
		return tap_done();
	test_doubt_orphan(B);
	if (next_roles(&L, &A, &B, &C, &term, "node B is back again"))
		return tap_done();

	/* A malformed datagram from B's address to A: counted and dropped. */
	get_cluster(&nodes[A].cl, &st);
	tap_ok(send_junk(&nodes[B], &nodes[A]) == 0, "junk datagram sent from node B's address");
	{
		uint64_t end = now_ms() + 3000, before, after = 0;

		before = peer_of(&st, nodes[B].id) ? peer_of(&st, nodes[B].id)->dropped : 0;
		do {
			get_cluster(&nodes[A].cl, &st2);
			after = peer_of(&st2, nodes[B].id) ?
				peer_of(&st2, nodes[B].id)->dropped : 0;
			if (after > before)
				break;
			nap(50);
		} while (now_ms() < end);
		tap_ok(after == before + 1, "node A counts it dropped for peer B (%llu -> %llu)",
		       (unsigned long long)before, (unsigned long long)after);
		cl_try(&nodes[A].cl, x, &res);
		tap_ok(!res.error, "the cluster still serves (error %d \"%s\")",
		       res.error, res.extack);
		cl_release(&nodes[A].cl, x, &res);
	}

	/* The leader's namespace goes: a new leader, A's lease survives. */
	{
		const char *z = lname("clz");

		cl_try(&nodes[A].cl, z, &res);
		tap_ok(!res.error, "lock taken on node A before the leader dies");
		t1 = res.token;
		/* Nothing of ours may keep the namespace alive. */
		client_close(&nodes[L].cl);
		close(nodes[L].nsfd);
		nodes[L].dead = true;
		snprintf(cmd, sizeof(cmd), "ip netns del %s", nodes[L].ns);
		tap_ok(system(cmd) == 0, "leader's namespace deleted");
		uint64_t t0 = now_ms();

		/*
		 * Asked once, not repeated: the node offers it again through
		 * the election, as long as the answer's window (3 s) lasts.
		 */
		const char *w = lname("clw");

		try_lock(&nodes[A].cl, w, &res);
		tap_ok(!res.error,
		       "a lock asked for on node A as the leader dies is granted by the next one, without a retry, in %llu ms (error %d \"%s\")",
		       (unsigned long long)(now_ms() - t0), res.error, res.extack);
		L2 = wait_leader(10000, &term2);
		tap_ok(L2 >= 0 && L2 != L && term2 > term,
		       "a new leader within %llu ms (term %llu -> %llu)",
		       (unsigned long long)(now_ms() - t0),
		       (unsigned long long)term, (unsigned long long)term2);
		tap_ok(refused_held(&nodes[B].cl, z), "the lock held on node A is still held");
		tap_ok(holder_token(&nodes[B].cl, z) == t1, "with its token");
		cl_release(&nodes[A].cl, z, &res);
		tap_ok(!res.error && res.count == 0,
		       "released on node A through the new leader (error %d \"%s\")",
		       res.error, res.extack);
		cl_release(&nodes[A].cl, w, &res);
	}

	/*
	 * Leave: node B returns to single-node mode.  Its clients are told:
	 * a wait queued behind A's lock ends (WAIT_DONE, ESHUTDOWN), a holder
	 * learns it may miss a LOST (ENOBUFS).
	 */
	struct client ha, bw, bh;
	struct acq qa = { .name = lname("clq"), .flags = DLOCK_F_NO_TTL,
			  .cookie = 91 };

	open_in(&nodes[A], &ha);
	open_in(&nodes[B], &bw);
	open_in(&nodes[B], &bh);
	cl_try(&ha, qa.name, &res);
	cl_acquire(&bw, &qa, &res);
	tap_ok(!res.error && res.queued, "a wait on node B queued behind node A's lock (error %d \"%s\")",
	       res.error, res.extack);
	cl_try(&bh, lname("clh"), &res);
	tap_ok(!res.error, "a lock held by a client of node B (error %d \"%s\")",
	       res.error, res.extack);
	nlraw_init(&m, nodes[B].cl.family, DLOCK_CMD_SET_CLUSTER, DLOCK_GENL_VERSION);
	set_conf(&nodes[B], &m, &r);
	i = cl_note(&bw, 3000, &note);
	tap_ok(i == DLOCK_CMD_WAIT_DONE && note.cookie == 91 &&
	       note.error == ESHUTDOWN,
	       "leave: node B's queued wait ends with WAIT_DONE, ESHUTDOWN (note %d, error %u)",
	       i, note.error);
	i = cl_note(&bh, 3000, &note);
	tap_ok(i == -ENOBUFS, "leave: node B's holder learns it may miss a LOST (ENOBUFS; got %d)", i);
	client_close(&bw);
	client_close(&bh);
	get_cluster(&nodes[B].cl, &st);
	tap_ok(!r.error && st.role == DLOCK_ROLE_NONE &&
	       status_role(&nodes[B].cl) == DLOCK_ROLE_NONE,
	       "leave: node B is back in single-node mode (error %d)", r.error);
	cl_try(&nodes[B].cl, x, &res);
	tap_ok(!res.error, "node B serves locks alone (error %d \"%s\")",
	       res.error, res.extack);
	cl_release(&nodes[B].cl, x, &res);
	tap_ok(!res.error, "and releases them");

	/*
	 * Node A alone of three can elect no one: a request is offered again
	 * for the whole answer window, then refused as not taken (EAGAIN), not
	 * as one that may still take effect (ETIMEDOUT).
	 */
	{
		uint64_t end = now_ms() + 10000, t0;

		get_cluster(&nodes[A].cl, &st);
		while (st.leader && now_ms() < end) {
			nap(50);
			get_cluster(&nodes[A].cl, &st);
		}
		t0 = now_ms();
		try_lock(&nodes[A].cl, lname("clv"), &res);
		tap_ok(!st.leader && res.error == EAGAIN &&
		       strstr(res.extack, "no leader yet") &&
		       now_ms() - t0 >= 2500,
		       "alone, node A refuses a lock for want of a leader after %llu ms of offering it (leader %u, error %d \"%s\")",
		       (unsigned long long)(now_ms() - t0), st.leader,
		       res.error, res.extack);
	}

	/* The last clustered node leaves too (no leaked instance at unload). */
	nlraw_init(&m, nodes[A].cl.family, DLOCK_CMD_SET_CLUSTER, DLOCK_GENL_VERSION);
	tap_ok(set_conf(&nodes[A], &m, &r) == 0, "node A leaves");
	client_close(&ha);
	for (i = 0; i < N; i++)
		if (!nodes[i].dead)
			client_close(&nodes[i].cl);
	printf("# LOSTs in doubt skipped on a slow node: %u\n", doubts_skipped);
	return tap_done();
}
