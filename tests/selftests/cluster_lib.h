/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The helpers of the in-guest cluster tests (cluster_test.c,
 * cluster_seal_test.c): three nodes, one per network namespace made by
 * cluster_test.sh, 10.77.0.1..3, UDP port 7400, configured with raw netlink.
 */
#ifndef DLOCK_CLUSTER_LIB_H
#define DLOCK_CLUSTER_LIB_H

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <sched.h>
#include <stdbool.h>
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

static inline void die(const char *what)
{
	perror(what);
	exit(2);
}

static inline void enter(struct node *n)
{
	if (setns(n->nsfd, CLONE_NEWNET))
		die("setns");
}

static inline void leave_ns(void)
{
	if (setns(rootfd, CLONE_NEWNET))
		die("setns root");
}

/* A netlink client whose socket lives in @n's namespace. */
static inline void open_in(struct node *n, struct client *c)
{
	enter(n);
	if (client_open(c))
		die("client_open");
	leave_ns();
}

static inline uint64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000ULL + ts.tv_nsec / 1000000;
}

static inline void nap(int ms)
{
	usleep(ms * 1000);
}

/* ---- cluster state ---------------------------------------------------- */

struct peer_state {
	uint32_t id;
	uint64_t tx, rx, dropped;
	bool has_lag;			/* DLOCK_P_LAG present (the leader) */
	uint64_t lag;
	bool has_seal;			/* DLOCK_P_SEAL_DROPS present */
	uint64_t seal[__DLOCK_SEAL_DROP_MAX];	/* by enum dlock_seal_drop */
};

struct cl_state {
	int error;
	char extack[256];
	uint8_t role;
	uint32_t leader;
	uint64_t term, commit;
	uint64_t stray;			/* DLOCK_A_CLUSTER_STRAY */
	int nfp;			/* key fingerprints present */
	uint8_t fp[2][DLOCK_CLUSTER_KEY_FP_LEN];
	bool has_key_attr;		/* DLOCK_A_CLUSTER_KEY(2): must not be */
	uint32_t cluster_id;		/* DLOCK_A_CLUSTER_CLUSTER_ID */
	int npeers;
	struct peer_state peer[8];
};

static inline uint64_t nest_u64(struct nlattr *nest, int type)
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

/* DLOCK_P_SEAL_DROPS inside the peer nest @nest, if there. */
static inline void parse_seal_drops(struct nlattr *nest, struct peer_state *ps)
{
	char *p = (char *)nest + NLA_HDRLEN, *end = (char *)nest + nest->nla_len;

	while (p + NLA_HDRLEN <= end) {
		struct nlattr *a = (struct nlattr *)p;

		if (a->nla_len < NLA_HDRLEN)
			break;
		if ((a->nla_type & NLA_TYPE_MASK) == DLOCK_P_SEAL_DROPS) {
			ps->has_seal = true;
			for (int t = 1; t < __DLOCK_SEAL_DROP_MAX; t++)
				ps->seal[t] = nest_u64(a, t);
		}
		p += NLA_ALIGN(a->nla_len);
	}
}

static inline void parse_state(struct nlraw_reply *r, struct cl_state *st)
{
	char *p = (char *)&r->msg + NLMSG_LENGTH(GENL_HDRLEN);
	char *end = (char *)&r->msg + r->len;

	st->role = nlraw_u8(&r->msg, r->len, DLOCK_A_CLUSTER_ROLE);
	st->leader = nlraw_u32(&r->msg, r->len, DLOCK_A_CLUSTER_LEADER);
	st->term = nlraw_u64(&r->msg, r->len, DLOCK_A_CLUSTER_TERM);
	st->commit = nlraw_u64(&r->msg, r->len, DLOCK_A_CLUSTER_COMMIT);
	st->stray = nlraw_u64(&r->msg, r->len, DLOCK_A_CLUSTER_STRAY);
	st->cluster_id = nlraw_u32(&r->msg, r->len, DLOCK_A_CLUSTER_CLUSTER_ID);
	for (int k = 0; k < 2; k++) {
		struct nlattr *a = nlraw_attr(&r->msg, r->len,
					      k ? DLOCK_A_CLUSTER_KEY2_FP :
						  DLOCK_A_CLUSTER_KEY_FP);

		if (a && a->nla_len == NLA_HDRLEN + DLOCK_CLUSTER_KEY_FP_LEN) {
			memcpy(st->fp[k], nlraw_data(a), DLOCK_CLUSTER_KEY_FP_LEN);
			st->nfp++;
		}
	}
	st->has_key_attr = nlraw_attr(&r->msg, r->len, DLOCK_A_CLUSTER_KEY) ||
			   nlraw_attr(&r->msg, r->len, DLOCK_A_CLUSTER_KEY2);
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
			ps->has_lag = nest_find(a, DLOCK_P_LAG) != NULL;
			ps->lag = nest_u64(a, DLOCK_P_LAG);
			parse_seal_drops(a, ps);
		}
		p += NLA_ALIGN(a->nla_len);
	}
}

static inline void get_cluster(struct client *c, struct cl_state *st)
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

static inline struct peer_state *peer_of(struct cl_state *st, uint32_t id)
{
	for (int i = 0; i < st->npeers; i++)
		if (st->peer[i].id == id)
			return &st->peer[i];
	return NULL;
}

static inline uint8_t status_role(struct client *c)
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

/*
 * SET_CLUSTER of node @self: every other node of nodes[] is its peer; with
 * @key (and @key2) of DLOCK_CLUSTER_KEY_LEN bytes when not NULL.
 */
static inline void build_conf_key(struct nlraw_msg *m,
		int family, int self, const uint8_t *key, const uint8_t *key2)
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
	if (key)
		nlraw_put(m, DLOCK_A_CLUSTER_KEY, key, DLOCK_CLUSTER_KEY_LEN);
	if (key2)
		nlraw_put(m, DLOCK_A_CLUSTER_KEY2, key2, DLOCK_CLUSTER_KEY_LEN);
}

static inline void build_conf(struct nlraw_msg *m, int family, int self)
{
	build_conf_key(m, family, self, NULL, NULL);
}

static inline int set_conf(struct node *n, struct nlraw_msg *m, struct nlraw_reply *r)
{
	if (nlraw_talk(n->cl.fd, m, r))
		return EIO;
	return r->error;
}

/* Waits until the live nodes agree on one leader; returns its index. */
static inline int wait_leader(int timeout_ms, uint64_t *term)
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

static inline int try_lock(struct client *c, const char *name, struct result *res)
{
	struct acq a = { .name = name, .flags = DLOCK_F_TRY | DLOCK_F_NO_TTL };

	return acquire(c, &a, res);
}

/*
 * An election can fall between two steps of a test on a loaded guest (the
 * debug kernel ran one during an 800-lock dump).  A node offers a command
 * through an election for 3 s; one that outlasts it, or a leader's
 * lock-delay, refuses it with EAGAIN and this message.  The cl_* calls
 * repeat the request then, as a client would, for up to 20 s: any other
 * answer, refusals included, is returned as it came.
 */
static inline bool cl_no_leader(const struct result *res)
{
	return res->error == EAGAIN && strstr(res->extack, "no leader yet");
}

#define CL_RETRY(call, res) ({						\
	uint64_t end_ = now_ms() + 20000;				\
	int rc_;							\
									\
	while (!(rc_ = (call)) && cl_no_leader(res) && now_ms() < end_)	\
		nap(100);						\
	rc_;								\
})
#define cl_try(c, name, res) CL_RETRY(try_lock(c, name, res), res)
#define cl_acquire(c, a, res) CL_RETRY(acquire(c, a, res), res)
#define cl_release(c, name, res) \
	CL_RETRY(release(c, name, 0, NULL, res), res)

/* Try-acquires until granted or @ms pass (lock-delay, elections). */
static inline int lock_retry(struct client *c, const char *name, int ms,
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

static inline bool refused_held(struct client *c, const char *name)
{
	struct result res;

	if (cl_try(c, name, &res))
		return false;
	if (res.error != EAGAIN || !strstr(res.extack, "lock is held"))
		fprintf(stderr, "# try on %s: error %d \"%s\"\n", name,
			res.error, res.extack);
	return res.error == EAGAIN && strstr(res.extack, "lock is held");
}

/* The token GET on this node shows for @name's first holder, 0: none. */
static inline uint64_t holder_token(struct client *c, const char *name)
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

static inline uint64_t wait_holder_token(struct client *c, const char *name, int ms)
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

/* A UDP socket in @from's namespace bound to its address: a peer's source. */
static inline int udp_socket_from(struct node *from)
{
	struct sockaddr_in src = { .sin_family = AF_INET };
	int fd;

	inet_pton(AF_INET, from->ip, &src.sin_addr);
	enter(from);
	fd = socket(AF_INET, SOCK_DGRAM, 0);
	leave_ns();
	if (fd >= 0 && bind(fd, (struct sockaddr *)&src, sizeof(src))) {
		close(fd);
		fd = -1;
	}
	return fd;
}

/* @to's cluster port. */
static inline struct sockaddr_in cluster_port_of(struct node *to)
{
	struct sockaddr_in dst = { .sin_family = AF_INET, .sin_port = htons(PORT) };

	inet_pton(AF_INET, to->ip, &dst.sin_addr);
	return dst;
}

/* @len bytes of @buf from @from's address to @to's cluster port. */
static inline int send_raw(struct node *from, struct node *to, const void *buf,
			   int len)
{
	struct sockaddr_in dst = cluster_port_of(to);
	int fd = udp_socket_from(from), err;

	if (fd < 0)
		return -1;
	err = sendto(fd, buf, len, 0, (struct sockaddr *)&dst,
		     sizeof(dst)) != len;
	close(fd);
	return err ? -1 : 0;
}

/* A datagram that is no dlock message, from @from's address to @to's port. */
static inline int send_junk(struct node *from, struct node *to)
{
	char junk[64];

	memset(junk, 0xa5, sizeof(junk));
	return send_raw(from, to, junk, sizeof(junk));
}

/* Writes a module parameter of dlock's; 0 or -1. */
static inline int set_param(const char *name, unsigned long val)
{
	char path[128];
	FILE *f;
	int err;

	snprintf(path, sizeof(path), "/sys/module/dlock/parameters/%s", name);
	f = fopen(path, "w");
	if (!f)
		return -1;
	err = fprintf(f, "%lu\n", val) < 0;
	return fclose(f) || err ? -1 : 0;
}

/*
 * The next note on @c within @ms that is not a LOST of a lease in doubt.
 * A guest slow enough (the debug kernel under TCG, 100 ms per commit) to
 * leave a follower's session unconfirmed for nine tenths of it rightly
 * tells its holders their leases are in doubt; such notes are shown and
 * counted, not taken for the note a check waits for.
 */
static unsigned int doubts_skipped __attribute__((unused));

static inline int cl_note(struct client *c, int ms, struct note *n)
{
	uint64_t end = now_ms() + ms;
	int got;

	for (;;) {
		uint64_t now = now_ms();

		got = next_note(c, now < end ? (int)(end - now) : 0, n);
		if (got != DLOCK_CMD_LOST || n->reason != DLOCK_LOST_IN_DOUBT)
			return got;
		doubts_skipped++;
		printf("# skipped: LOST in doubt of %s (token %llu), the node was slow\n",
		       n->name, (unsigned long long)n->token);
	}
}

#endif /* DLOCK_CLUSTER_LIB_H */
