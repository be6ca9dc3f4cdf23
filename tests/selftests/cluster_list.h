/* SPDX-License-Identifier: GPL-2.0 */
/*
 * cluster_test.c's checks of the GET dump and GET_STATUS on cluster nodes:
 * every node lists what it applied of the cluster table, a dump of many
 * locks comes in several parts and names each lock once even when the
 * table changes between parts, the status counts are the cluster table's,
 * and another uid sees what a single node would show it.  Included once by
 * cluster_test.c, after cluster_lib.h (nodes[], open_in(), lock_retry(), ...).
 *
 * Planted bugs these checks catch (KCFLAGS=-DDLOCK_PLANT_...):
 * CL_DUMP_NO_RESUME (a lock skipped at each part boundary),
 * CL_DUMP_SHOW_ALL (another uid's owner shown), CL_STATUS_LOCAL (status
 * counts the single-node table), CL_NO_COUNTERS (cluster outcomes not
 * counted).
 */
#ifndef DLOCK_CLUSTER_LIST_H
#define DLOCK_CLUSTER_LIST_H

#include <poll.h>
#include <sys/mman.h>
#include <sys/wait.h>

#include "cluster_lib.h"

#define NMANY	800	/* locks of the many-locks dump: several parts */

/* What a dump showed of the first holder of one lock (the probe). */
struct probe {
	const char *name;
	int found;		/* times the name came */
	uint64_t token;
	uint32_t uid;
	bool hidden, session, owner, pid, comm;
};

struct cdump {
	int recvs;		/* recv() calls that returned data */
	int msgs;		/* lock messages */
	int intr;		/* messages flagged NLM_F_DUMP_INTR */
	int done;
	int error;		/* positive errno: NLMSG_ERROR, or in NLMSG_DONE */
	int others;		/* locks that are neither probe nor base-NNNN */
	int bad;		/* base-NNNN locks out of range or without holder */
	unsigned char seen[NMANY];
};

static bool nest_has(struct nlattr *nest, int type)
{
	return nest_find(nest, type) != NULL;
}

static void probe_fill(struct probe *pr, struct nlmsghdr *nh)
{
	struct nlattr *h = nlraw_attr((struct nlraw_msg *)nh, nh->nlmsg_len,
				      DLOCK_A_HOLDER);

	pr->found++;
	if (!h)
		return;
	pr->token = nest_u64(h, DLOCK_E_TOKEN);
	pr->uid = nest_u64(h, DLOCK_E_UID);
	pr->hidden = nest_has(h, DLOCK_E_HIDDEN);
	pr->session = nest_has(h, DLOCK_E_SESSION);
	pr->owner = nest_has(h, DLOCK_E_OWNER) || nest_has(h, DLOCK_E_OWNER_TAG);
	pr->pid = nest_has(h, DLOCK_E_PID);
	pr->comm = nest_has(h, DLOCK_E_COMM);
}

/*
 * Dumps (by @prefix) and tallies the names "@base-NNNN" (@base may be
 * NULL) and @pr's name.  @between, if set, runs after the first recv()
 * that returned data, while the rest of the dump is not made yet.
 */
static int cl_dump(struct client *c, const char *prefix, const char *base,
		   struct probe *pr, struct cdump *d,
		   void (*between)(void *), void *arg)
{
	static uint32_t seq = 1 << 28;
	size_t blen = base ? strlen(base) : 0;
	struct nlraw_msg m;
	char rx[32768];

	memset(d, 0, sizeof(*d));
	if (pr) {
		const char *name = pr->name;

		memset(pr, 0, sizeof(*pr));
		pr->name = name;
	}
	nlraw_init(&m, c->family, DLOCK_CMD_GET, DLOCK_GENL_VERSION);
	m.nh.nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP;
	m.nh.nlmsg_seq = ++seq;
	if (prefix)
		nlraw_put(&m, DLOCK_A_PREFIX, prefix, strlen(prefix));
	if (send(c->fd, &m, m.nh.nlmsg_len, 0) < 0)
		return -errno;
	while (!d->done && !d->error) {
		struct pollfd p = { .fd = c->fd, .events = POLLIN };
		struct nlmsghdr *nh;
		ssize_t n;

		if (poll(&p, 1, 10000) != 1)
			return -ETIMEDOUT;
		n = recv(c->fd, rx, sizeof(rx), 0);
		if (n < 0)
			return -errno;
		for (nh = (struct nlmsghdr *)rx; NLMSG_OK(nh, n);
		     nh = NLMSG_NEXT(nh, n)) {
			struct nlattr *a;
			char *name;
			int len, i;

			if (nh->nlmsg_seq != m.nh.nlmsg_seq)
				continue;
			if (nh->nlmsg_flags & NLM_F_DUMP_INTR)
				d->intr++;
			if (nh->nlmsg_type == NLMSG_DONE) {
				int derr = 0;

				if (nh->nlmsg_len >= NLMSG_LENGTH(sizeof(derr)))
					memcpy(&derr, NLMSG_DATA(nh), sizeof(derr));
				d->error = -derr;
				d->done = 1;
				continue;
			}
			if (nh->nlmsg_type == NLMSG_ERROR) {
				d->error = -((struct nlmsgerr *)NLMSG_DATA(nh))->error;
				continue;
			}
			d->msgs++;
			a = nlraw_attr((struct nlraw_msg *)nh, nh->nlmsg_len,
				       DLOCK_A_NAME);
			if (!a) {
				d->bad++;
				continue;
			}
			name = nlraw_data(a);
			len = a->nla_len - NLA_HDRLEN;
			if (pr && len == (int)strlen(pr->name) &&
			    !memcmp(name, pr->name, len)) {
				probe_fill(pr, nh);
			} else if (base && len == (int)blen + 5 &&
				   !memcmp(name, base, blen) && name[blen] == '-') {
				i = atoi(name + blen + 1);
				if (i >= 0 && i < NMANY &&
				    nlraw_attr((struct nlraw_msg *)nh,
					       nh->nlmsg_len, DLOCK_A_HOLDER))
					d->seen[i]++;
				else
					d->bad++;
			} else {
				d->others++;
			}
		}
		if (++d->recvs == 1 && between)
			between(arg);
	}
	return 0;
}

struct cl_counts {
	int error;
	uint64_t leases, waiters, locks, memory;
	uint64_t grants, releases, owner_died;	/* DLOCK_A_STATUS_COUNTERS */
};

static void cl_status(struct client *c, struct cl_counts *s)
{
	struct nlraw_reply r;
	struct nlraw_msg m;
	struct nlattr *a;

	memset(s, 0, sizeof(*s));
	nlraw_init(&m, c->family, DLOCK_CMD_GET_STATUS, DLOCK_GENL_VERSION);
	if (nlraw_talk(c->fd, &m, &r) || r.error) {
		s->error = r.error ? r.error : EIO;
		return;
	}
	s->leases = nlraw_u64(&r.msg, r.len, DLOCK_A_STATUS_LEASES);
	s->waiters = nlraw_u64(&r.msg, r.len, DLOCK_A_STATUS_WAITERS);
	s->locks = nlraw_u64(&r.msg, r.len, DLOCK_A_STATUS_LOCKS);
	s->memory = nlraw_u64(&r.msg, r.len, DLOCK_A_STATUS_MEMORY);
	a = nlraw_attr(&r.msg, r.len, DLOCK_A_STATUS_COUNTERS);
	if (a) {
		s->grants = nest_u64(a, DLOCK_C_GRANTS);
		s->releases = nest_u64(a, DLOCK_C_RELEASES);
		s->owner_died = nest_u64(a, DLOCK_C_OWNER_DIED);
	}
}

/* Waits up to @ms for node @n's status to count @leases leases. */
static bool wait_leases(struct node *n, uint64_t leases, int ms,
			struct cl_counts *s)
{
	uint64_t end = now_ms() + ms;

	do {
		cl_status(&n->cl, s);
		if (!s->error && s->leases == leases)
			return true;
		nap(50);
	} while (now_ms() < end);
	return false;
}

/* Dumps on @n until @pr's name shows with @token, for at most @ms. */
static void wait_listed(struct node *n, struct probe *pr, uint64_t token,
			int ms, struct cdump *d)
{
	uint64_t end = now_ms() + ms;

	do {
		if (!cl_dump(&n->cl, pr->name, NULL, pr, d, NULL, NULL) &&
		    pr->found == 1 && pr->token == token)
			return;
		nap(50);
	} while (now_ms() < end);
}

/* ---- one lock, every node --------------------------------------------- */

/* @x is held on node @a with @token, and nothing else is in the table. */
static void test_list_one(const char *x, uint64_t token)
{
	struct cl_counts s;
	struct probe pr;
	struct cdump d;
	bool ok;

	for (int i = 0; i < N; i++) {
		pr.name = x;
		wait_listed(&nodes[i], &pr, token, 3000, &d);
		tap_ok(d.done && !d.error && pr.found == 1 &&
		       pr.token == token && d.others == 0,
		       "dump on node %u lists the lock once with its token (found %d, token %llu, others %d, error %d)",
		       nodes[i].id, pr.found, (unsigned long long)pr.token,
		       d.others, d.error);
		tap_ok(!pr.hidden && pr.session && pr.owner && !pr.pid &&
		       !pr.comm && pr.uid == 0,
		       "node %u: root sees its owner and session, no pid or command (not replicated)",
		       nodes[i].id);
		/* The whole table: x alone, as the status counts it. */
		cl_dump(&nodes[i].cl, NULL, NULL, NULL, &d, NULL, NULL);
		ok = wait_leases(&nodes[i], 1, 3000, &s);
		tap_ok(ok && s.locks == 1 &&
		       s.waiters == 0 && d.msgs == 1 && d.done && !d.error,
		       "node %u: status counts the cluster table: leases %llu, locks %llu, waiters %llu; a dump of all lists %d",
		       nodes[i].id, (unsigned long long)s.leases,
		       (unsigned long long)s.locks,
		       (unsigned long long)s.waiters, d.msgs);
	}
}

/* ---- another uid ------------------------------------------------------ */

struct user_view {
	int error;		/* of the lock taken as that uid, or of a step */
	struct probe theirs;	/* root's lock */
	struct probe own;	/* the lock taken as this uid */
	struct probe lin;	/* theirs, by a linearizable GET */
	int lin_error;
};

/*
 * In a child on node @n as @uid: takes @own (unless NULL) and dumps
 * @theirs and @own; reports through @out (shared memory), then, if it
 * took @own, holds it until @hold is readable.
 */
static pid_t as_user(struct node *n, uid_t uid, const char *own,
		     const char *theirs, const char *other,
		     struct user_view *out, int ready, int hold)
{
	pid_t pid = fork();
	struct client c;
	struct result res;
	struct cdump d;
	char b;

	if (pid)
		return pid;
	enter(n);
	if (setresgid(uid, uid, uid) || setresuid(uid, uid, uid) ||
	    client_open(&c))
		_exit(3);
	memset(out, 0, sizeof(*out));
	if (own && lock_retry(&c, own, 5000, &res))
		out->error = res.error ? res.error : EIO;
	out->theirs.name = theirs;
	cl_dump(&c, theirs, NULL, &out->theirs, &d, NULL, NULL);
	if (d.error)
		out->error = d.error;
	out->own.name = other;
	cl_dump(&c, other, NULL, &out->own, &d, NULL, NULL);
	/* a linearizable GET hides as much: the barrier changes nothing */
	{
		struct nlraw_reply r;
		struct nlraw_msg m;

		nlraw_init(&m, c.family, DLOCK_CMD_GET, DLOCK_GENL_VERSION);
		put_name(&m, theirs, 0);
		nlraw_put(&m, DLOCK_A_LINEARIZABLE, NULL, 0);
		if (nlraw_talk(c.fd, &m, &r))
			out->lin_error = EIO;
		else if (r.error)
			out->lin_error = r.error;
		else
			probe_fill(&out->lin, &r.msg.nh);
	}
	if (write(ready, "r", 1) != 1)
		_exit(4);
	if (own && read(hold, &b, 1) < 0)
		_exit(5);
	_exit(0);
}

/* Root's @x (held on node A): what uids 1000 and 1001 see of it and each other. */
static void test_list_users(const char *x, int A, int B)
{
	struct user_view *v = mmap(NULL, 2 * sizeof(*v), PROT_READ | PROT_WRITE,
				   MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	const char *u = lname("clu1000");
	int rd[2], hold[2], status;
	struct probe pr = { .name = u };
	struct cdump d;
	pid_t p1, p2;
	bool ok;
	char b;

	if (v == MAP_FAILED || pipe(rd) || pipe(hold))
		die("test_list_users");
	/* uid 1000 takes u on node B and looks at x and u there. */
	p1 = as_user(&nodes[B], 1000, u, x, u, &v[0], rd[1], hold[0]);
	ok = read(rd[0], &b, 1) == 1;
	tap_ok(ok && !v[0].error,
	       "uid 1000 takes a lock on node %u (error %d)", nodes[B].id,
	       v[0].error);
	tap_ok(v[0].theirs.found == 1 && v[0].theirs.hidden &&
	       !v[0].theirs.session && !v[0].theirs.owner &&
	       v[0].theirs.uid == 0 && v[0].theirs.token,
	       "uid 1000's dump shows root's lock hidden: uid 0, token, no owner or session (found %d hidden %d owner %d)",
	       v[0].theirs.found, v[0].theirs.hidden, v[0].theirs.owner);
	tap_ok(v[0].own.found == 1 && !v[0].own.hidden && v[0].own.owner &&
	       v[0].own.session && v[0].own.uid == 1000,
	       "uid 1000 sees its own lock with owner and session (found %d hidden %d)",
	       v[0].own.found, v[0].own.hidden);
	/* uid 1001 on node A: uid 1000's lock is hidden. */
	pr.name = u;
	wait_listed(&nodes[A], &pr, v[0].own.token, 3000, &d);
	p2 = as_user(&nodes[A], 1001, NULL, u, u, &v[1], rd[1], hold[0]);
	ok = read(rd[0], &b, 1) == 1;
	tap_ok(ok && v[1].theirs.found == 1 &&
	       v[1].theirs.hidden && !v[1].theirs.owner &&
	       v[1].theirs.uid == 1000,
	       "uid 1001 on node %u sees uid 1000's lock hidden (found %d hidden %d owner %d)",
	       nodes[A].id, v[1].theirs.found, v[1].theirs.hidden,
	       v[1].theirs.owner);
	tap_ok(!v[1].lin_error && v[1].lin.found == 1 && v[1].lin.hidden &&
	       !v[1].lin.owner && !v[1].lin.session &&
	       v[1].lin.uid == 1000 && v[1].lin.token == v[0].own.token,
	       "uid 1001's linearizable GET of it is as hidden: uid, token, no owner or session (error %d, hidden %d, owner %d)",
	       v[1].lin_error, v[1].lin.hidden, v[1].lin.owner);
	waitpid(p2, &status, 0);
	/* Root (CAP_NET_ADMIN) sees uid 1000's owner. */
	tap_ok(pr.found == 1 && !pr.hidden && pr.owner && pr.uid == 1000,
	       "root on node %u sees uid 1000's lock with its owner (found %d hidden %d)",
	       nodes[A].id, pr.found, pr.hidden);
	if (write(hold[1], "g", 1) != 1)
		die("write");
	waitpid(p1, &status, 0);
	/* Its socket closed: the lock goes on every node (x stays). */
	ok = true;
	for (int i = 0; i < N; i++) {
		struct cl_counts s;

		ok &= wait_leases(&nodes[i], 1, 5000, &s);
	}
	tap_ok(ok, "uid 1000's socket closed: its lock is gone on every node");
	close(rd[0]);
	close(rd[1]);
	close(hold[0]);
	close(hold[1]);
	munmap(v, 2 * sizeof(*v));
}

/* ---- many locks ------------------------------------------------------- */

struct churn {
	struct client *c;	/* where the table is changed */
	struct node *at;	/* the node whose dump is under way */
	const char *name;
	uint64_t token;
};

/* Between two parts: a lock taken and released, applied on the dump's node. */
static void churn(void *arg)
{
	struct churn *ch = arg;
	struct result res;
	struct probe pr = { .name = ch->name };
	struct cdump d;
	struct client c;

	try_lock(ch->c, ch->name, &res);
	ch->token = res.error ? 0 : res.token;
	open_in(ch->at, &c);
	{
		struct node tmp = *ch->at;

		tmp.cl = c;
		wait_listed(&tmp, &pr, ch->token, 3000, &d);
	}
	client_close(&c);
	release(ch->c, ch->name, 0, NULL, &res);
}

static void test_list_many(int L, int B)
{
	const char *base = lname("cldump-with-a-long-name-so-parts-fill-up-sooner");
	char name[160], prefix[160];
	struct cl_counts s0[N], s;
	struct client owner;
	struct result res;
	struct cdump d;
	int i, taken = 0, once, twice;
	uint64_t t0;

	for (i = 0; i < N; i++)
		cl_status(&nodes[i].cl, &s0[i]);
	open_in(&nodes[L], &owner);
	t0 = now_ms();
	for (i = 0; i < NMANY; i++) {
		snprintf(name, sizeof(name), "%s-%04d", base, i);
		if (!try_lock(&owner, name, &res) && !res.error)
			taken++;
	}
	tap_ok(taken == NMANY, "%d of %d locks taken on node %u in %llu ms",
	       taken, NMANY, nodes[L].id,
	       (unsigned long long)(now_ms() - t0));
	snprintf(prefix, sizeof(prefix), "%s-", base);
	for (i = 0; i < N; i++) {
		bool counted = wait_leases(&nodes[i], s0[i].leases + NMANY,
					   10000, &s);

		cl_dump(&nodes[i].cl, prefix, base, NULL, &d, NULL, NULL);
		once = twice = 0;
		for (int k = 0; k < NMANY; k++) {
			once += d.seen[k] == 1;
			twice += d.seen[k] > 1;
		}
		tap_ok(d.done && !d.error && once == NMANY && !twice &&
		       !d.bad && !d.others && d.recvs >= 3,
		       "node %u: a dump by prefix names each of the %d locks once, in %d parts (once %d, more %d, bad %d, others %d, error %d)",
		       nodes[i].id, NMANY, d.recvs, once, twice, d.bad,
		       d.others, d.error);
		tap_ok(counted && s.locks == s0[i].locks + NMANY &&
		       s.memory > s0[i].memory + NMANY * 64,
		       "node %u: status counts them: leases %llu -> %llu, locks %llu -> %llu, memory %llu -> %llu",
		       nodes[i].id, (unsigned long long)s0[i].leases,
		       (unsigned long long)s.leases,
		       (unsigned long long)s0[i].locks,
		       (unsigned long long)s.locks,
		       (unsigned long long)s0[i].memory,
		       (unsigned long long)s.memory);
	}
	/* The table changes between two parts of a dump on node B. */
	{
		struct churn ch = { .c = &nodes[L].cl, .at = &nodes[B],
				    .name = lname("cldump-churn") };

		cl_dump(&nodes[B].cl, NULL, base, NULL, &d, churn, &ch);
		once = twice = 0;
		for (int k = 0; k < NMANY; k++) {
			once += d.seen[k] == 1;
			twice += d.seen[k] > 1;
		}
		tap_ok(ch.token && d.done && !d.error && once == NMANY &&
		       !twice && d.intr > 0,
		       "node %u: locks taken and released between two parts: each of the %d held throughout named once, the dump flagged NLM_F_DUMP_INTR (once %d, more %d, intr %d, error %d)",
		       nodes[B].id, NMANY, once, twice, d.intr, d.error);
	}
	/* The owner's socket closes: every node drops them all. */
	client_close(&owner);
	for (i = 0; i < N; i++) {
		bool gone = wait_leases(&nodes[i], s0[i].leases, 10000, &s);

		cl_dump(&nodes[i].cl, prefix, base, NULL, &d, NULL, NULL);
		tap_ok(gone && d.done && d.msgs == 0,
		       "node %u: the owner's socket closed: status back to %llu leases, the dump lists none (%d)",
		       nodes[i].id, (unsigned long long)s.leases, d.msgs);
		/* Every node counts every outcome it applied. */
		tap_ok(s.grants - s0[i].grants == NMANY + 1 &&
		       s.releases - s0[i].releases == 1 &&
		       s.owner_died - s0[i].owner_died == NMANY,
		       "node %u: counters: %llu grants, %llu releases, %llu owner_died (%d, 1, %d expected)",
		       nodes[i].id,
		       (unsigned long long)(s.grants - s0[i].grants),
		       (unsigned long long)(s.releases - s0[i].releases),
		       (unsigned long long)(s.owner_died - s0[i].owner_died),
		       NMANY + 1, NMANY);
	}
}

#endif /* DLOCK_CLUSTER_LIST_H */
