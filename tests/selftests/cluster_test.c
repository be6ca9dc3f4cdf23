// SPDX-License-Identifier: GPL-2.0
/*
 * Cluster mode in one guest: three network namespaces (made by
 * cluster_test.sh, joined by a bridge) configured as the nodes of one
 * cluster with raw netlink, then lock commands on each node, listings and
 * status counts on each node (cluster_list.h), watch events, tracepoints
 * and lag (cluster_obs.h), delayed and cut links (cluster_faults.h), a
 * node flooded from a peer's address (cluster_flood.h), one
 * user's share of the client slots (cluster_slots.h), and
 * faults from outside: a socket closed, a malformed datagram, the leader's
 * namespace deleted, a node leaving.  Prints TAP.
 *
 * Usage: cluster_test NS1 NS2 NS3   (addresses 10.77.0.1..3, port 7400)
 */
#define _GNU_SOURCE
#include "cluster_lib.h"
#include "cluster_list.h"
#include "cluster_obs.h"
#include "cluster_faults.h"
#include "cluster_doubt.h"
#include "cluster_flood.h"
#include "cluster_slots.h"

/*
 * A datagram to node @A's port from an address that is no peer's (A's own
 * loopback): dropped unread, counted in DLOCK_A_CLUSTER_STRAY, no peer's.
 */
static void test_stray(int A)
{
	struct sockaddr_in lo = { .sin_family = AF_INET, .sin_port = htons(PORT),
				  .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	struct cl_state st, st2;
	uint64_t end = now_ms() + 3000, drops = 0, drops2 = 0;
	int fd, i, sent;

	get_cluster(&nodes[A].cl, &st);
	enter(&nodes[A]);
	fd = socket(AF_INET, SOCK_DGRAM, 0);
	leave_ns();
	sent = fd >= 0 && sendto(fd, "no peer", 7, 0, (struct sockaddr *)&lo,
				 sizeof(lo)) == 7;
	if (fd >= 0)
		close(fd);
	do {
		nap(50);
		get_cluster(&nodes[A].cl, &st2);
	} while (st2.stray == st.stray && now_ms() < end);
	for (i = 0; i < st.npeers; i++) {
		drops += st.peer[i].dropped;
		drops2 += st2.peer[i].dropped;
	}
	tap_ok(sent && st2.stray == st.stray + 1 && drops2 == drops,
	       "a datagram from no peer's address (loopback) counted as stray by node A (%llu -> %llu), no peer's drop (%llu -> %llu)",
	       (unsigned long long)st.stray, (unsigned long long)st2.stray,
	       (unsigned long long)drops, (unsigned long long)drops2);
}

/* ---- the test --------------------------------------------------------- */

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
	test_user_clients(A, B);
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
	test_orphan_kill(L, B);
	if (next_roles(&L, &A, &B, &C, &term, "the killed orphan test"))
		return tap_done();
	test_orphan_snap(L, B);
	if (next_roles(&L, &A, &B, &C, &term, "the snapshot orphan test"))
		return tap_done();
	test_doubt(A, B);
	if (next_roles(&L, &A, &B, &C, &term, "node B is back"))
		return tap_done();
	test_doubt_orphan(B);
	if (next_roles(&L, &A, &B, &C, &term, "node B is back again"))
		return tap_done();
	test_doubt_ttl(A, B);
	if (next_roles(&L, &A, &B, &C, &term, "node B is back a third time"))
		return tap_done();
	test_doubt_backlog(A, B);
	if (next_roles(&L, &A, &B, &C, &term, "node B caught up"))
		return tap_done();
	test_rejoin(A, B);
	if (next_roles(&L, &A, &B, &C, &term, "node B rejoined"))
		return tap_done();
	test_flood_junk(L, A, B, 512);
	if (next_roles(&L, &A, &B, &C, &term, "the flood"))
		return tap_done();
	test_flood_junk(L, A, B, 1);
	if (next_roles(&L, &A, &B, &C, &term, "the flood through a queue of 1"))
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
		test_stray(A);
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
