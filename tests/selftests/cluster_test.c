// SPDX-License-Identifier: GPL-2.0
/*
 * Cluster mode in one guest: three network namespaces (made by
 * cluster_test.sh, joined by a bridge) configured as the nodes of one
 * cluster with raw netlink, then lock commands on each node, listings and
 * status counts on each node (cluster_list.h), and faults from outside: a
 * socket closed, a malformed datagram, the leader's namespace deleted, a
 * node leaving.  Prints TAP.
 *
 * Usage: cluster_test NS1 NS2 NS3   (addresses 10.77.0.1..3, port 7400)
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <sched.h>
#include <stdbool.h>
#include <sys/mman.h>
#include <stdlib.h>
#include <time.h>

#include "lockreq.h"
#include "../tap.h"

#define N	3
#define PORT	7400

struct node {
	const char *ns;
	int nsfd;
	uint32_t id;
	char ip[16];
	struct client cl;
	bool dead;
};

static struct node nodes[N];
static int rootfd;

static void die(const char *what)
{
	perror(what);
	exit(2);
}

static void enter(struct node *n)
{
	if (setns(n->nsfd, CLONE_NEWNET))
		die("setns");
}

static void leave_ns(void)
{
	if (setns(rootfd, CLONE_NEWNET))
		die("setns root");
}

/* A netlink client whose socket lives in @n's namespace. */
static void open_in(struct node *n, struct client *c)
{
	enter(n);
	if (client_open(c))
		die("client_open");
	leave_ns();
}

static uint64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000ULL + ts.tv_nsec / 1000000;
}

static void nap(int ms)
{
	usleep(ms * 1000);
}

/* ---- cluster state ---------------------------------------------------- */

struct peer_state {
	uint32_t id;
	uint64_t tx, rx, dropped;
};

struct cl_state {
	int error;
	char extack[256];
	uint8_t role;
	uint32_t leader;
	uint64_t term, commit;
	int npeers;
	struct peer_state peer[8];
};

static uint64_t nest_u64(struct nlattr *nest, int type)
{
	char *p = (char *)nest + NLA_HDRLEN, *end = (char *)nest + nest->nla_len;

	while (p + NLA_HDRLEN <= end) {
		struct nlattr *a = (struct nlattr *)p;
		uint64_t v = 0;

		if (a->nla_len < NLA_HDRLEN)
			break;
		if (a->nla_type == type) {
			memcpy(&v, p + NLA_HDRLEN, a->nla_len - NLA_HDRLEN > 8 ?
			       8 : a->nla_len - NLA_HDRLEN);
			return v;
		}
		p += NLA_ALIGN(a->nla_len);
	}
	return 0;
}

static void parse_state(struct nlraw_reply *r, struct cl_state *st)
{
	char *p = (char *)&r->msg + NLMSG_LENGTH(GENL_HDRLEN);
	char *end = (char *)&r->msg + r->len;

	st->role = nlraw_u8(&r->msg, r->len, DLOCK_A_CLUSTER_ROLE);
	st->leader = nlraw_u32(&r->msg, r->len, DLOCK_A_CLUSTER_LEADER);
	st->term = nlraw_u64(&r->msg, r->len, DLOCK_A_CLUSTER_TERM);
	st->commit = nlraw_u64(&r->msg, r->len, DLOCK_A_CLUSTER_COMMIT);
	while (p + NLA_HDRLEN <= end && st->npeers < 8) {
		struct nlattr *a = (struct nlattr *)p;

		if (a->nla_len < NLA_HDRLEN)
			break;
		if ((a->nla_type & NLA_TYPE_MASK) == DLOCK_A_CLUSTER_PEER) {
			struct peer_state *ps = &st->peer[st->npeers++];

			ps->id = nest_u64(a, DLOCK_P_ID);
			ps->tx = nest_u64(a, DLOCK_P_TX);
			ps->rx = nest_u64(a, DLOCK_P_RX);
			ps->dropped = nest_u64(a, DLOCK_P_DROPPED);
		}
		p += NLA_ALIGN(a->nla_len);
	}
}

static void get_cluster(struct client *c, struct cl_state *st)
{
	struct nlraw_reply r;
	struct nlraw_msg m;

	memset(st, 0, sizeof(*st));
	nlraw_init(&m, c->family, DLOCK_CMD_GET_CLUSTER, DLOCK_GENL_VERSION);
	if (nlraw_talk(c->fd, &m, &r)) {
		st->error = EIO;
		return;
	}
	st->error = r.error;
	memcpy(st->extack, r.extack, sizeof(st->extack));
	if (!r.error)
		parse_state(&r, st);
}

static struct peer_state *peer_of(struct cl_state *st, uint32_t id)
{
	for (int i = 0; i < st->npeers; i++)
		if (st->peer[i].id == id)
			return &st->peer[i];
	return NULL;
}

static uint8_t status_role(struct client *c)
{
	struct nlraw_reply r;
	struct nlraw_msg m;

	nlraw_init(&m, c->family, DLOCK_CMD_GET_STATUS, DLOCK_GENL_VERSION);
	if (nlraw_talk(c->fd, &m, &r) || r.error)
		return 0xff;
	if (!nlraw_attr(&r.msg, r.len, DLOCK_A_CLUSTER_ROLE))
		return 0xfe;
	return nlraw_u8(&r.msg, r.len, DLOCK_A_CLUSTER_ROLE);
}

/* SET_CLUSTER of node @self: every other node of nodes[] is its peer. */
static void build_conf(struct nlraw_msg *m, int family, int self)
{
	uint16_t port = PORT;

	nlraw_init(m, family, DLOCK_CMD_SET_CLUSTER, DLOCK_GENL_VERSION);
	nlraw_put(m, DLOCK_A_CLUSTER_ID, &nodes[self].id, 4);
	nlraw_put(m, DLOCK_A_CLUSTER_PORT, &port, 2);
	for (int i = 0; i < N; i++) {
		struct {
			struct nlattr nest;
			struct nlattr a_id; uint32_t id;
			struct nlattr a_addr; uint32_t addr;
			struct nlattr a_port; uint16_t port; uint16_t pad;
		} __attribute__((packed)) p;

		if (i == self)
			continue;
		memset(&p, 0, sizeof(p));
		p.nest.nla_type = DLOCK_A_CLUSTER_PEER | NLA_F_NESTED;
		p.nest.nla_len = sizeof(p);
		p.a_id.nla_type = DLOCK_P_ID;
		p.a_id.nla_len = NLA_HDRLEN + 4;
		p.id = nodes[i].id;
		p.a_addr.nla_type = DLOCK_P_ADDR;
		p.a_addr.nla_len = NLA_HDRLEN + 4;
		inet_pton(AF_INET, nodes[i].ip, &p.addr);
		p.a_port.nla_type = DLOCK_P_PORT;
		p.a_port.nla_len = NLA_HDRLEN + 2;
		p.port = PORT;
		memcpy((char *)m + NLMSG_ALIGN(m->nh.nlmsg_len), &p, sizeof(p));
		m->nh.nlmsg_len = NLMSG_ALIGN(m->nh.nlmsg_len) + sizeof(p);
	}
}

static int set_conf(struct node *n, struct nlraw_msg *m, struct nlraw_reply *r)
{
	if (nlraw_talk(n->cl.fd, m, r))
		return EIO;
	return r->error;
}

/* Waits until the live nodes agree on one leader; returns its index. */
static int wait_leader(int timeout_ms, uint64_t *term)
{
	uint64_t end = now_ms() + timeout_ms;

	do {
		struct cl_state st[N];
		int leaders = 0, li = -1, agree = 1;

		for (int i = 0; i < N; i++) {
			if (nodes[i].dead)
				continue;
			get_cluster(&nodes[i].cl, &st[i]);
			if (st[i].role == DLOCK_ROLE_LEADER) {
				leaders++;
				li = i;
			}
		}
		for (int i = 0; i < N && li >= 0; i++)
			if (!nodes[i].dead &&
			    (st[i].leader != nodes[li].id ||
			     st[i].term != st[li].term))
				agree = 0;
		if (leaders == 1 && agree) {
			*term = st[li].term;
			return li;
		}
		nap(100);
	} while (now_ms() < end);
	return -1;
}

/* ---- lock helpers ----------------------------------------------------- */

static int try_lock(struct client *c, const char *name, struct result *res)
{
	struct acq a = { .name = name, .flags = DLOCK_F_TRY | DLOCK_F_NO_TTL };

	return acquire(c, &a, res);
}

/* Try-acquires until granted or @ms pass (lock-delay, elections). */
static int lock_retry(struct client *c, const char *name, int ms,
		      struct result *res)
{
	uint64_t end = now_ms() + ms;

	do {
		if (try_lock(c, name, res))
			return -1;
		if (!res->error)
			return 0;
		nap(100);
	} while (now_ms() < end);
	return -1;
}

static bool refused_held(struct client *c, const char *name)
{
	struct result res;

	if (try_lock(c, name, &res))
		return false;
	if (res.error != EAGAIN || !strstr(res.extack, "lock is held"))
		fprintf(stderr, "# try on %s: error %d \"%s\"\n", name,
			res.error, res.extack);
	return res.error == EAGAIN && strstr(res.extack, "lock is held");
}

/* The token GET on this node shows for @name's first holder, 0: none. */
static uint64_t holder_token(struct client *c, const char *name)
{
	struct nlraw_reply r;
	struct nlraw_msg m;
	struct nlattr *h;

	nlraw_init(&m, c->family, DLOCK_CMD_GET, DLOCK_GENL_VERSION);
	put_name(&m, name, 0);
	if (nlraw_talk(c->fd, &m, &r) || r.error)
		return 0;
	h = nlraw_attr(&r.msg, r.len, DLOCK_A_HOLDER);
	return h ? nest_u64(h, DLOCK_E_TOKEN) : 0;
}

static uint64_t wait_holder_token(struct client *c, const char *name, int ms)
{
	uint64_t end = now_ms() + ms, t;

	do {
		t = holder_token(c, name);
		if (t)
			return t;
		nap(50);
	} while (now_ms() < end);
	return 0;
}

/* A datagram that is no dlock message, from @from's address to @to's port. */
static int send_junk(struct node *from, struct node *to)
{
	struct sockaddr_in src = { .sin_family = AF_INET };
	struct sockaddr_in dst = { .sin_family = AF_INET, .sin_port = htons(PORT) };
	char junk[64];
	int fd, err;

	memset(junk, 0xa5, sizeof(junk));
	inet_pton(AF_INET, from->ip, &src.sin_addr);
	inet_pton(AF_INET, to->ip, &dst.sin_addr);
	enter(from);
	fd = socket(AF_INET, SOCK_DGRAM, 0);
	leave_ns();
	if (fd < 0)
		return -1;
	err = bind(fd, (struct sockaddr *)&src, sizeof(src)) ||
	      sendto(fd, junk, sizeof(junk), 0, (struct sockaddr *)&dst,
		     sizeof(dst)) != sizeof(junk);
	close(fd);
	return err ? -1 : 0;
}

#include "cluster_list.h"

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

	/* Configure the three nodes. */
	for (i = 0; i < N; i++) {
		int err;

		build_conf(&m, nodes[i].cl.family, i);
		err = set_conf(&nodes[i], &m, &r);
		tap_ok(err == 0, "SET_CLUSTER on node %u (error %d \"%s\")",
		       nodes[i].id, err, r.extack);
	}
	L = wait_leader(15000, &term);
	tap_ok(L >= 0, "one leader elected, every node names it, same term");
	if (L < 0)
		return tap_done();
	A = (L + 1) % N;
	B = (L + 2) % N;
	C = L;
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
	release(&nodes[A].cl, x, 0, NULL, &res);
	tap_ok(!res.error && res.count == 0, "released on node A (error %d \"%s\")",
	       res.error, res.extack);
	try_lock(&nodes[B].cl, x, &res);
	tap_ok(!res.error && res.token > t1,
	       "taken on node B with a greater token (%llu > %llu)",
	       (unsigned long long)res.token, (unsigned long long)t1);
	t2 = res.token;

	/* Queued on A while B holds; B's release grants A: WAIT_DONE. */
	{
		struct acq a = { .name = x, .flags = DLOCK_F_NO_TTL,
				 .cookie = 77 };

		acquire(&nodes[A].cl, &a, &res);
		tap_ok(!res.error && res.queued, "blocking acquire on node A queued (error %d \"%s\")",
		       res.error, res.extack);
		release(&nodes[B].cl, x, 0, NULL, &res);
		i = next_note(&nodes[A].cl, 3000, &note);
		tap_ok(i == DLOCK_CMD_WAIT_DONE &&
		       note.cookie == 77 && !note.error && note.token > t2 &&
		       !strcmp(note.name, x),
		       "node A gets WAIT_DONE naming the lock with a greater token (%llu)",
		       (unsigned long long)note.token);
		release(&nodes[A].cl, x, 0, NULL, &res);
		tap_ok(!res.error, "released on node A");
	}

	/* A holder's socket closing on A frees the lock cluster-wide. */
	{
		struct client tmp;
		const char *y = lname("cly");
		uint64_t end;
		bool freed = false;

		open_in(&nodes[A], &tmp);
		try_lock(&tmp, y, &res);
		tap_ok(!res.error, "lock taken by a second socket on node A");
		tap_ok(refused_held(&nodes[B].cl, y), "held for node B");
		client_close(&tmp);
		end = now_ms() + 5000;
		while (!freed && now_ms() < end) {
			try_lock(&nodes[B].cl, y, &res);
			freed = !res.error;
			if (!freed)
				nap(100);
		}
		tap_ok(freed, "the holder's socket closed: node B takes the lock");
		release(&nodes[B].cl, y, 0, NULL, &res);
	}

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
		try_lock(&nodes[A].cl, x, &res);
		tap_ok(!res.error, "the cluster still serves (error %d \"%s\")",
		       res.error, res.extack);
		release(&nodes[A].cl, x, 0, NULL, &res);
	}

	/* The leader's namespace goes: a new leader, A's lease survives. */
	{
		const char *z = lname("clz");

		try_lock(&nodes[A].cl, z, &res);
		tap_ok(!res.error, "lock taken on node A before the leader dies");
		t1 = res.token;
		/* Nothing of ours may keep the namespace alive. */
		client_close(&nodes[L].cl);
		close(nodes[L].nsfd);
		nodes[L].dead = true;
		snprintf(cmd, sizeof(cmd), "ip netns del %s", nodes[L].ns);
		tap_ok(system(cmd) == 0, "leader's namespace deleted");
		uint64_t t0 = now_ms();

		L2 = wait_leader(10000, &term2);
		tap_ok(L2 >= 0 && L2 != L && term2 > term,
		       "a new leader within %llu ms (term %llu -> %llu)",
		       (unsigned long long)(now_ms() - t0),
		       (unsigned long long)term, (unsigned long long)term2);
		tap_ok(refused_held(&nodes[B].cl, z), "the lock held on node A is still held");
		tap_ok(holder_token(&nodes[B].cl, z) == t1, "with its token");
		release(&nodes[A].cl, z, 0, NULL, &res);
		tap_ok(!res.error && res.count == 0,
		       "released on node A through the new leader (error %d \"%s\")",
		       res.error, res.extack);
	}

	/* Leave: node B returns to single-node mode. */
	nlraw_init(&m, nodes[B].cl.family, DLOCK_CMD_SET_CLUSTER, DLOCK_GENL_VERSION);
	set_conf(&nodes[B], &m, &r);
	get_cluster(&nodes[B].cl, &st);
	tap_ok(!r.error && st.role == DLOCK_ROLE_NONE &&
	       status_role(&nodes[B].cl) == DLOCK_ROLE_NONE,
	       "leave: node B is back in single-node mode (error %d)", r.error);
	try_lock(&nodes[B].cl, x, &res);
	tap_ok(!res.error, "node B serves locks alone (error %d \"%s\")",
	       res.error, res.extack);
	release(&nodes[B].cl, x, 0, NULL, &res);
	tap_ok(!res.error, "and releases them");

	/* The last clustered node leaves too (no leaked instance at unload). */
	nlraw_init(&m, nodes[A].cl.family, DLOCK_CMD_SET_CLUSTER, DLOCK_GENL_VERSION);
	tap_ok(set_conf(&nodes[A], &m, &r) == 0, "node A leaves");
	for (i = 0; i < N; i++)
		if (!nodes[i].dead)
			client_close(&nodes[i].cl);
	return tap_done();
}
