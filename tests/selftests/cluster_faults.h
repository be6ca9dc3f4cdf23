/* SPDX-License-Identifier: GPL-2.0 */
/*
 * cluster_test's helpers to set module parameters, delay (netem) or cut one
 * node's datagrams, and the tests built on them: a follower's request in
 * the leader's lock-delay, acquires that time out and apply late
 * (orphans), linearizable reads behind a slow leader, a node's quick
 * rejoin (the doubt tests are in cluster_doubt.h).  Included by
 * cluster_test.c only.
 */
#ifndef DLOCK_CLUSTER_FAULTS_H
#define DLOCK_CLUSTER_FAULTS_H

#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cluster_lib.h"

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

/* After a failure: each node's table and view of the cluster, for the log. */
static void show_nodes(void)
{
	char cmd[300];
	int k;

	for (k = 0; k < N; k++) {
		snprintf(cmd, sizeof(cmd),
			 "echo '# node %d'; ip netns exec %s build/dlockctl -j list; ip netns exec %s build/dlockctl -j cluster",
			 k, nodes[k].ns, nodes[k].ns);
		if (system(cmd))
			break;
	}
}

/*
 * Drops every datagram to node @n (netem on its bridge port, cluster_test.sh
 * names it), or no longer: B still sends, and hears nothing.
 */
static int cut_to(int n, bool on)
{
	const char *sfx = getenv("DLCL_PORT_SUFFIX");
	char cmd[200];

	if (!sfx)
		return -1;
	snprintf(cmd, sizeof(cmd), on ?
		 "tc qdisc add dev dlclv%d%s root netem loss 100%%" :
		 "tc qdisc del dev dlclv%d%s root", n + 1, sfx);
	return system(cmd);
}

/*
 * A try that times out on node B (300 ms window, B's datagrams delayed
 * 1.5 s) while B hears nothing: the leader grants it, and B learns of it
 * only from a snapshot, once the leader's log has moved on by 3,400
 * entries (compacted at three quarters of cluster_log_cap, 4096).  The
 * grant's answer comes with the snapshot's dedup table: B gives the lease
 * back though its client sends nothing more.  Hearing nothing, B times out
 * and asks for votes again and again: the leader and C, hearing a leader,
 * ignore it (the CI run that deposed the leader each time timed out a fill).
 */
static void test_orphan_snap(int L, int B)
{
	const char *o = lname("closnap"), *f = lname("closnap-fill");
	struct client hb, hl;
	struct result ro, r;
	struct cl_state s0, sl, sb;
	uint64_t end, to = 0, tb = 0;
	bool kept;
	int i, err;

	open_in(&nodes[B], &hb);
	open_in(&nodes[L], &hl);
	get_cluster(&nodes[L].cl, &s0);
	err = set_answer_ms(300) || netem_delay(B, 1500) || cut_to(B, true);
	try_lock(&hb, o, &ro);
	err |= set_answer_ms(3000);
	end = now_ms() + 8000;
	while (!to && now_ms() < end) {
		to = holder_token(&hl, o);
		nap(20);
	}
	for (i = 0; i < 1700 && !err && to; i++) {
		try_lock(&hl, f, &r);
		err |= r.error;
		release(&hl, f, 0, NULL, &r);
		err |= r.error;
	}
	tap_ok(!err && ro.error == ETIMEDOUT && to,
	       "orphans and snapshots: a try on node B times out, is granted while B hears nothing, then 3,400 entries (errors %d, try %d, token %llu)",
	       err, ro.error, (unsigned long long)to);
	/* B timed out and asked for votes: ignored beside a working leader */
	get_cluster(&nodes[L].cl, &sl);
	get_cluster(&nodes[B].cl, &sb);
	kept = sl.role == DLOCK_ROLE_LEADER && sl.term == s0.term;
	tap_ok(kept && sb.term > s0.term,
	       "orphans and snapshots: node B asked for votes in term %llu, the leader kept its term %llu (now %llu, role %u)",
	       (unsigned long long)sb.term, (unsigned long long)s0.term,
	       (unsigned long long)sl.term, sl.role);
	if (!kept)
		show_nodes();
	err = cut_to(B, false) || netem_delay(B, 0);
	end = now_ms() + 15000;
	while (now_ms() < end) {
		tb = holder_token(&hb, o);
		if (!holder_token(&hl, o))
			break;
		nap(100);
	}
	tap_ok(!err && !holder_token(&hl, o),
	       "orphans and snapshots: back, node B gives the lease back, its grant learned from the snapshot (B last saw %llu)",
	       (unsigned long long)tb);
	client_close(&hb);
	client_close(&hl);
}

/*
 * A process whose try timed out on node B (300 ms window, B's datagrams
 * delayed 700 ms) is killed (SIGKILL) as soon as B applies the late grant:
 * the node's orphan work is then undoing it in the client's name (its
 * RELEASE in the same delay) while the socket closes.  Either way the lease
 * ends, the lock is free again, and the kernel says nothing (the harness
 * fails the run on any warning).
 */
static void test_orphan_kill(int L, int B)
{
	const char *o = lname("clokill");
	uint64_t end, seen = 0;
	int fds[2], terr = 0, st = 0, err;
	pid_t pid;

	err = pipe(fds) || set_answer_ms(300) || netem_delay(B, 700);
	pid = err ? -1 : fork();
	if (pid == 0) {
		struct client c;
		struct result r;

		close(fds[0]);
		open_in(&nodes[B], &c);
		try_lock(&c, o, &r);
		if (write(fds[1], &r.error, sizeof(r.error)) < 0)
			_exit(1);
		pause();
		_exit(0);
	}
	close(fds[1]);
	if (pid < 0 || read(fds[0], &terr, sizeof(terr)) != sizeof(terr))
		err = -1;
	close(fds[0]);
	end = now_ms() + 5000;
	while (!err && !seen && now_ms() < end) {
		seen = holder_token(&nodes[B].cl, o);
		nap(5);
	}
	if (pid > 0) {
		kill(pid, SIGKILL);
		waitpid(pid, &st, 0);
	}
	err |= set_answer_ms(3000);
	tap_ok(!err && terr == ETIMEDOUT && seen && WIFSIGNALED(st),
	       "orphans: a process whose try timed out is killed as node B applies its late grant (try %d, token %llu)",
	       terr, (unsigned long long)seen);
	err = netem_delay(B, 0);
	end = now_ms() + 10000;
	while (holder_token(&nodes[L].cl, o) && now_ms() < end)
		nap(50);
	tap_ok(!err && !holder_token(&nodes[L].cl, o),
	       "orphans: its lease ends all the same, the lock free on the leader");
	if (holder_token(&nodes[L].cl, o))
		show_nodes();
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
 * Node B leaves and rejoins at once, well within the node-session timeout
 * (the others never see it silent for that long), while a client of B's
 * earlier life holds a lock without TTL.  That client is gone for the
 * cluster (its node's new life does not know it): the new life's
 * NODE_START ends its lease, and a client of node A takes the lock.
 */
static void test_rejoin(int A, int B)
{
	const char *x = lname("clrejoin");
	struct nlraw_reply r;
	struct nlraw_msg m;
	struct client hb;
	struct result res;
	uint64_t t0, took = 0;
	int err;

	open_in(&nodes[B], &hb);
	cl_try(&hb, x, &res);
	tap_ok(!res.error, "rejoin: a lock without TTL held by a client of node B (error %d \"%s\")",
	       res.error, res.extack);
	nlraw_init(&m, nodes[B].cl.family, DLOCK_CMD_SET_CLUSTER, DLOCK_GENL_VERSION);
	err = set_conf(&nodes[B], &m, &r);
	build_conf(&m, nodes[B].cl.family, B);
	err |= set_conf(&nodes[B], &m, &r);
	t0 = now_ms();
	while (!took && now_ms() < t0 + 10000) {
		try_lock(&nodes[A].cl, x, &res);
		if (!res.error)
			took = now_ms();
		else
			nap(50);
	}
	tap_ok(!err && took,
	       "rejoin: node B left and rejoined; its earlier client's lease ended, node A took the lock %llu ms later (session 3000 ms; error %d \"%s\")",
	       (unsigned long long)(took ? took - t0 : 0), res.error, res.extack);
	cl_release(&nodes[A].cl, x, &res);
	client_close(&hb);
}

#endif /* DLOCK_CLUSTER_FAULTS_H */
