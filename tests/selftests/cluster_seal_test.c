// SPDX-License-Identifier: GPL-2.0
/*
 * Sealed cluster datagrams (issue 15) in one guest, three namespaces made by
 * cluster_test.sh: only the nodes that hold the cluster key are heard.
 *   - keys of the wrong size, a second key alone: refused;
 *   - unkeyed: no key fingerprint in GET_CLUSTER; a plaintext datagram is
 *     captured for later;
 *   - all with key K: a leader, a lock; then node 3 with key K': it hears
 *     nobody and nobody hears it (its datagrams counted as seal drops),
 *     nodes 1 and 2 keep a leader and the lock; no reply carries a key;
 *   - the captured plaintext datagram, a sealed one replayed and one forged
 *     (its counter changed), then the sealed one with each of its bits
 *     flipped, cut at every length and one byte longer, all from a member's
 *     address: each dropped and counted by reason, the term unchanged;
 *   - a second key installed in place (rotation): no restart;
 *   - a cluster id without a key, or of the wrong size: refused; node 3
 *     given K but cluster id 7: it and the others (K, no id) accept nothing
 *     from each other, their datagrams counted as "wrong cluster";
 *   - node 3 given K and no id, with the seal token bucket's module
 *     parameters at their smallest: it joins and sees the lock; forged
 *     datagrams from a peer's address are then partly "rate limited"; sent
 *     without end from the leader's, they cut node 3 off: its holder is
 *     told its lease is in doubt before any grant elsewhere
 *     (cluster_flood.h).
 * The planted bug DLOCK_PLANT_CL_NO_CLUSTER_ID (the id not put in the seal
 * context) makes the cluster id checks fail.
 * Prints TAP.  Usage: cluster_seal_test NS1 NS2 NS3
 */
#define _GNU_SOURCE
#include <linux/if_ether.h>
#include <linux/if_packet.h>
#include <net/if.h>
#include <netinet/ip.h>
#include <netinet/udp.h>
#include <poll.h>

#include "cluster_flood.h"

static uint8_t key_k[DLOCK_CLUSTER_KEY_LEN], key_x[DLOCK_CLUSTER_KEY_LEN];
static uint8_t key_k2[DLOCK_CLUSTER_KEY_LEN];

/*
 * The UDP payload of one datagram from @from's address to the cluster port,
 * seen on @to's interface (a packet socket in its namespace).  Returns its
 * length, or -1.
 */
static int capture(struct node *to, struct node **fromp, uint8_t *buf, int cap)
{
	struct node *from = *fromp;
	struct sockaddr_ll ll = { .sll_family = AF_PACKET,
				  .sll_protocol = htons(ETH_P_IP) };
	static uint8_t frame[70000];
	struct in_addr src[N];
	uint64_t end = now_ms() + 5000;
	int fd, got = -1, j;

	for (j = 0; j < N; j++)
		inet_pton(AF_INET, nodes[j].ip, &src[j]);
	enter(to);
	fd = socket(AF_PACKET, SOCK_DGRAM, htons(ETH_P_IP));
	ll.sll_ifindex = if_nametoindex("eth0");
	leave_ns();
	if (fd < 0 || bind(fd, (struct sockaddr *)&ll, sizeof(ll)))
		goto out;
	while (got < 0 && now_ms() < end) {
		struct pollfd pfd = { .fd = fd, .events = POLLIN };
		struct iphdr *ip = (struct iphdr *)frame;
		struct udphdr *uh;
		ssize_t n;
		int len;

		if (poll(&pfd, 1, 500) <= 0)
			continue;
		n = recv(fd, frame, sizeof(frame), 0);
		if (n < (ssize_t)sizeof(*ip) || ip->protocol != IPPROTO_UDP ||
		    n < ip->ihl * 4 + (ssize_t)sizeof(*uh))
			continue;
		for (j = 0; j < N; j++)
			if (ip->saddr == src[j].s_addr && &nodes[j] != to &&
			    (!from || from == &nodes[j]))
				break;
		if (j == N)
			continue;
		uh = (struct udphdr *)(frame + ip->ihl * 4);
		len = ntohs(uh->len) - (int)sizeof(*uh);
		if (ntohs(uh->dest) != PORT || len <= 0 || len > cap ||
		    ip->ihl * 4 + (int)sizeof(*uh) + len > n)
			continue;
		memcpy(buf, (uint8_t *)uh + sizeof(*uh), len);
		got = len;
		*fromp = &nodes[j];
	}
out:
	if (got < 0)
		fprintf(stderr, "# capture: %s\n", strerror(errno));
	if (fd >= 0)
		close(fd);
	return got;
}

/* Seal drops of reason @why on node @at for peer @of, waited to exceed @old. */
static uint64_t seal_drops_after(struct node *at, struct node *of, int why,
				 uint64_t old)
{
	uint64_t end = now_ms() + 3000, v = 0;
	struct cl_state st;

	do {
		get_cluster(&at->cl, &st);
		v = peer_of(&st, of->id) ? peer_of(&st, of->id)->seal[why] : 0;
		if (v > old)
			break;
		nap(50);
	} while (now_ms() < end);
	return v;
}

static uint64_t seal_drops_now(struct node *at, struct node *of, int why)
{
	struct cl_state st;

	get_cluster(&at->cl, &st);
	return peer_of(&st, of->id) ? peer_of(&st, of->id)->seal[why] : 0;
}

#define PARAMS "/sys/module/dlock/parameters/"

/* Every seal drop of node @at for peer @of, and its DLOCK_P_DROPPED. */
static uint64_t seal_drops_all(struct node *at, struct node *of, uint64_t *dropped)
{
	struct cl_state st;
	struct peer_state *p;
	uint64_t n = 0;
	int r;

	get_cluster(&at->cl, &st);
	p = peer_of(&st, of->id);
	for (r = 0; p && r < __DLOCK_SEAL_DROP_MAX; r++)
		n += p->seal[r];
	*dropped = p ? p->dropped : 0;
	return n;
}

/*
 * Mutants of a datagram @from sealed for @to, sent from @from's address:
 * each of its bits flipped in turn, every shorter length, one byte more.
 * Each must be dropped and counted by @to, whatever check it fails first
 * (version, cluster, receiver, sender, epoch, replay, length, tag).
 * Paced, so that the receive queue never overflows (that would be a drop
 * without a seal reason).  Returns how many were sent; @seal and @dropped
 * get how many @to counted.
 */
static int send_mutants(struct node *from, struct node *to, const uint8_t *dg,
			int len, uint64_t *seal, uint64_t *dropped)
{
	struct sockaddr_in dst = cluster_port_of(to);
	uint64_t seal0, drop0, end;
	uint8_t m[2048];
	int fd = udp_socket_from(from), sent = 0, i;

	if (fd < 0 || len + 1 > (int)sizeof(m))
		return -1;
	seal0 = seal_drops_all(to, from, &drop0);
	for (i = 0; i <= 9 * len; i++) {
		int n = len;

		memcpy(m, dg, len);
		if (i < 8 * len)
			m[i / 8] ^= 1 << (i % 8);	/* a bit flipped */
		else if (i < 9 * len)
			n = i - 8 * len;		/* cut short: 0..len-1 */
		else
			m[n++] = 0;			/* one byte more */
		if (sendto(fd, m, n, 0, (struct sockaddr *)&dst, sizeof(dst)) == n)
			sent++;
		if (i % 32 == 31)
			nap(2);
	}
	close(fd);
	end = now_ms() + 5000;
	do {
		nap(100);
		*seal = seal_drops_all(to, from, dropped) - seal0;
		*dropped -= drop0;
	} while (*seal < (uint64_t)sent && now_ms() < end);
	return sent;
}

static unsigned long read_param(const char *name)
{
	char path[128];
	unsigned long v = 0;
	FILE *f;

	snprintf(path, sizeof(path), PARAMS "%s", name);
	f = fopen(path, "r");
	if (!f)
		return 0;
	if (fscanf(f, "%lu", &v) != 1)
		v = 0;
	fclose(f);
	return v;
}

/* The reply of SET/GET_CLUSTER carries @key's bytes anywhere. */
static bool reply_has(struct nlraw_reply *r, const uint8_t *key)
{
	return r->len > 0 &&
	       memmem(&r->msg, r->len, key, DLOCK_CLUSTER_KEY_LEN) != NULL;
}

/* Why a wait failed: what each node says. */
static void dump_state(void)
{
	struct cl_state st;

	for (int i = 0; i < N; i++) {
		get_cluster(&nodes[i].cl, &st);
		fprintf(stderr, "# node %u: role %u leader %u term %llu fps %d\n",
			nodes[i].id, st.role, st.leader,
			(unsigned long long)st.term, st.nfp);
		for (int j = 0; j < st.npeers; j++) {
			struct peer_state *p = &st.peer[j];

			fprintf(stderr, "#   peer %u: tx %llu rx %llu dropped %llu seal",
				p->id, (unsigned long long)p->tx,
				(unsigned long long)p->rx,
				(unsigned long long)p->dropped);
			for (int t = 1; t < __DLOCK_SEAL_DROP_MAX; t++)
				fprintf(stderr, " %llu", (unsigned long long)p->seal[t]);
			fprintf(stderr, "\n");
		}
	}
}

static void configure(int i, const uint8_t *key, const uint8_t *key2,
		      struct nlraw_reply *r, const char *what)
{
	struct nlraw_msg m;
	int err;

	build_conf_key(&m, nodes[i].cl.family, i, key, key2);
	err = set_conf(&nodes[i], &m, r);
	tap_ok(err == 0, "SET_CLUSTER on node %u %s (error %d \"%s\")",
	       nodes[i].id, what, err, r->extack);
}

int main(int argc, char **argv)
{
	static uint8_t plain[70000], sealed[70000];
	struct nlraw_reply r;
	struct nlraw_msg m;
	struct cl_state st, st2, st3;
	struct result res;
	uint64_t term, before, after, rx_before, rx3[2], auth_n, rate_n;
	unsigned long old_rate, old_burst;
	uint32_t cid;
	struct node *plain_from, *sealed_from;
	int L, i, plain_len, sealed_len;
	const char *x;

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
		nodes[i].id = i + 1;
		snprintf(nodes[i].ip, sizeof(nodes[i].ip), "10.77.0.%d", i + 1);
		snprintf(path, sizeof(path), "/var/run/netns/%s", argv[i + 1]);
		nodes[i].nsfd = open(path, O_RDONLY);
		if (nodes[i].nsfd < 0)
			die(path);
		open_in(&nodes[i], &nodes[i].cl);
	}
	for (i = 0; i < DLOCK_CLUSTER_KEY_LEN; i++) {
		key_k[i] = 0x10 + i;
		key_x[i] = 0x80 + i;
		key_k2[i] = 0xc0 ^ i;
	}

	/* Refused key attributes change nothing. */
	build_conf(&m, nodes[0].cl.family, 0);
	nlraw_put(&m, DLOCK_A_CLUSTER_KEY, key_k, DLOCK_CLUSTER_KEY_LEN - 1);
	i = set_conf(&nodes[0], &m, &r);
	tap_ok(i == EINVAL || i == ERANGE, "a 31-byte key refused (error %d \"%s\")",
	       i, r.extack);
	build_conf(&m, nodes[0].cl.family, 0);
	nlraw_put(&m, DLOCK_A_CLUSTER_KEY2, key_k, DLOCK_CLUSTER_KEY_LEN);
	tap_ok(set_conf(&nodes[0], &m, &r) == EINVAL &&
	       strstr(r.extack, "second key"),
	       "a second key without a first refused: \"%s\"", r.extack);
	build_conf_key(&m, nodes[0].cl.family, 0, key_k, key_k);
	tap_ok(set_conf(&nodes[0], &m, &r) == EINVAL &&
	       strstr(r.extack, "same key id"),
	       "the same key twice refused: \"%s\"", r.extack);
	get_cluster(&nodes[0].cl, &st);
	tap_ok(st.role == DLOCK_ROLE_NONE, "refused configurations changed nothing");

	/* Unkeyed: allowed, shows no fingerprint; capture a plaintext one. */
	for (i = 0; i < N; i++)
		configure(i, NULL, NULL, &r, "without a key");
	L = wait_leader(15000, &term);
	tap_ok(L >= 0, "unkeyed: a leader elected");
	get_cluster(&nodes[0].cl, &st);
	tap_ok(st.nfp == 0 && peer_of(&st, nodes[1].id) &&
	       !peer_of(&st, nodes[1].id)->has_seal,
	       "unkeyed: GET_CLUSTER shows no key fingerprint, no seal drops");
	plain_from = NULL;
	plain_len = capture(&nodes[0], &plain_from, plain, sizeof(plain));
	tap_ok(plain_len >= 40 && plain[0] == 0x44 && plain[1] == 0x4c,
	       "a plaintext datagram to node 1 captured (%d bytes from node %u, wire magic)",
	       plain_len, plain_from ? plain_from->id : 0);

	/* All three with key K: a leader, a lock. */
	configure(0, key_k, NULL, &r, "with key K");
	tap_ok(!reply_has(&r, key_k), "its reply does not carry the key");
	configure(1, key_k, NULL, &r, "with key K");
	configure(2, key_k, NULL, &r, "with key K");
	L = wait_leader(15000, &term);
	tap_ok(L >= 0, "keyed: the three nodes elect a leader (node %d)", L + 1);
	if (L < 0) {
		dump_state();
		return tap_done();
	}
	x = lname("sealx");
	i = lock_retry(&nodes[0].cl, x, 15000, &res);
	tap_ok(!i && res.token, "a lock granted on node 1 (error %d \"%s\")",
	       res.error, res.extack);

	/* Node 3 with another key: not heard, and hears nobody. */
	configure(2, key_x, NULL, &r, "with another key");
	nap(100);
	get_cluster(&nodes[0].cl, &st);
	rx_before = peer_of(&st, nodes[2].id) ? peer_of(&st, nodes[2].id)->rx : 0;
	/* keys changed in place: node 3 keeps its counters */
	get_cluster(&nodes[2].cl, &st3);
	rx3[0] = peer_of(&st3, nodes[0].id) ? peer_of(&st3, nodes[0].id)->rx : 0;
	rx3[1] = peer_of(&st3, nodes[1].id) ? peer_of(&st3, nodes[1].id)->rx : 0;
	get_cluster(&nodes[1].cl, &st2);
	get_cluster(&nodes[2].cl, &st3);
	tap_ok(st.nfp == 1 && st2.nfp == 1 && st3.nfp == 1 &&
	       !memcmp(st.fp[0], st2.fp[0], DLOCK_CLUSTER_KEY_FP_LEN) &&
	       memcmp(st.fp[0], st3.fp[0], DLOCK_CLUSTER_KEY_FP_LEN),
	       "GET_CLUSTER: one fingerprint each, the same for the same key, another for another");
	nlraw_init(&m, nodes[0].cl.family, DLOCK_CMD_GET_CLUSTER,
		   DLOCK_GENL_VERSION);
	nlraw_talk(nodes[0].cl.fd, &m, &r);
	tap_ok(!r.error && !st.has_key_attr && !reply_has(&r, key_k),
	       "GET_CLUSTER carries no key attribute and not the key's bytes");
	nodes[2].dead = true;	/* not part of the leader wait */
	L = wait_leader(15000, &term);
	nodes[2].dead = false;
	tap_ok(L == 0 || L == 1, "nodes 1 and 2 (key K) have a leader (node %d)",
	       L + 1);
	if (L < 0) {
		dump_state();
		return tap_done();
	}
	tap_ok(refused_held(&nodes[1].cl, x), "the lock is held for node 2");
	nap(1000);
	get_cluster(&nodes[2].cl, &st3);
	tap_ok(st3.role != DLOCK_ROLE_LEADER && st3.role != DLOCK_ROLE_FOLLOWER &&
	       peer_of(&st3, nodes[0].id) && peer_of(&st3, nodes[1].id) &&
	       peer_of(&st3, nodes[0].id)->rx == rx3[0] &&
	       peer_of(&st3, nodes[1].id)->rx == rx3[1],
	       "node 3 (other key) follows nobody and accepted nothing since (role %u)",
	       st3.role);
	before = 0;
	for (i = 0; i < 2; i++)
		before += peer_of(&st3, nodes[i].id)->seal[DLOCK_SEAL_DROP_KEY] +
			  peer_of(&st3, nodes[i].id)->seal[DLOCK_SEAL_DROP_AUTH];
	tap_ok(before > 0,
	       "node 3 counts the others' datagrams as unknown key / auth failed (%llu)",
	       (unsigned long long)before);
	get_cluster(&nodes[0].cl, &st);
	tap_ok(peer_of(&st, nodes[2].id)->rx == rx_before &&
	       peer_of(&st, nodes[2].id)->seal[DLOCK_SEAL_DROP_KEY] +
	       peer_of(&st, nodes[2].id)->seal[DLOCK_SEAL_DROP_AUTH] > 0 &&
	       peer_of(&st, nodes[2].id)->dropped > 0,
	       "node 1 accepted nothing from node 3 and counts its datagrams dropped (%llu unknown key)",
	       (unsigned long long)peer_of(&st, nodes[2].id)->seal[DLOCK_SEAL_DROP_KEY]);
	try_lock(&nodes[2].cl, x, &res);
	tap_ok(res.error != 0, "node 3 grants nothing (error %d \"%s\")",
	       res.error, res.extack);

	/* The plaintext datagram from its sender's address: dropped. */
	if (!plain_from)
		plain_from = &nodes[1];
	before = seal_drops_now(&nodes[0], plain_from, DLOCK_SEAL_DROP_VERSION);
	tap_ok(plain_len > 0 &&
	       !send_raw(plain_from, &nodes[0], plain, plain_len),
	       "the plaintext datagram sent again from node %u's address",
	       plain_from->id);
	after = seal_drops_after(&nodes[0], plain_from, DLOCK_SEAL_DROP_VERSION,
				 before);
	tap_ok(after == before + 1,
	       "node 1 drops it as not sealed (bad version %llu -> %llu)",
	       (unsigned long long)before, (unsigned long long)after);

	/* A sealed datagram replayed, then forged. */
	sealed_from = &nodes[1];
	sealed_len = capture(&nodes[0], &sealed_from, sealed, sizeof(sealed));
	tap_ok(sealed_len >= 64 && sealed[0] == 0x44 && sealed[1] == 0x53,
	       "a sealed datagram from node 2 to node 1 captured (%d bytes)",
	       sealed_len);
	before = seal_drops_now(&nodes[0], &nodes[1], DLOCK_SEAL_DROP_REPLAY) +
		 seal_drops_now(&nodes[0], &nodes[1], DLOCK_SEAL_DROP_TOO_OLD);
	send_raw(&nodes[1], &nodes[0], sealed, sealed_len);
	nap(300);
	after = seal_drops_now(&nodes[0], &nodes[1], DLOCK_SEAL_DROP_REPLAY) +
		seal_drops_now(&nodes[0], &nodes[1], DLOCK_SEAL_DROP_TOO_OLD);
	tap_ok(after == before + 1, "replayed: dropped as a replay (%llu -> %llu)",
	       (unsigned long long)before, (unsigned long long)after);
	/* Counter (header bytes 40..47, in the associated data) moved on. */
	sealed[47] ^= 0x40;
	before = seal_drops_now(&nodes[0], &nodes[1], DLOCK_SEAL_DROP_AUTH);
	send_raw(&nodes[1], &nodes[0], sealed, sealed_len);
	after = seal_drops_after(&nodes[0], &nodes[1], DLOCK_SEAL_DROP_AUTH,
				 before);
	tap_ok(after == before + 1, "forged (counter changed): auth failed (%llu -> %llu)",
	       (unsigned long long)before, (unsigned long long)after);
	sealed[47] ^= 0x40;	/* the datagram as captured again */
	i = send_mutants(&nodes[1], &nodes[0], sealed, sealed_len, &after, &before);
	tap_ok(i == 9 * sealed_len + 1 && after == (uint64_t)i && before == (uint64_t)i,
	       "%d mutants of it (each bit flipped, every shorter length, a byte more): %llu counted by seal reason, %llu dropped",
	       i, (unsigned long long)after, (unsigned long long)before);
	get_cluster(&nodes[L].cl, &st);
	tap_ok(st.term == term && st.role == DLOCK_ROLE_LEADER &&
	       refused_held(&nodes[1].cl, x),
	       "the leader and its term are unchanged, the lock still held");

	/* Rotation, step 1 on node 1: a second key accepted, in place. */
	get_cluster(&nodes[0].cl, &st);
	configure(0, key_k, key_k2, &r, "with keys K and K2");
	get_cluster(&nodes[0].cl, &st2);
	tap_ok(st2.nfp == 2 && !memcmp(st2.fp[0], st.fp[0], DLOCK_CLUSTER_KEY_FP_LEN) &&
	       !reply_has(&r, key_k2),
	       "GET_CLUSTER shows both fingerprints, not the keys");
	tap_ok(st2.term == st.term && st2.role == st.role &&
	       peer_of(&st2, nodes[1].id)->tx >= peer_of(&st, nodes[1].id)->tx,
	       "the keys changed in place: no restart (role %u, term %llu)",
	       st2.role, (unsigned long long)st2.term);
	tap_ok(refused_held(&nodes[1].cl, x), "the cluster still serves");

	/* A cluster id: refused without a key, or of another size. */
	cid = 7;
	build_conf(&m, nodes[2].cl.family, 2);
	nlraw_put(&m, DLOCK_A_CLUSTER_CLUSTER_ID, &cid, 4);
	tap_ok(set_conf(&nodes[2], &m, &r) == EINVAL &&
	       strstr(r.extack, "needs a cluster key"),
	       "a cluster id without a key refused: \"%s\"", r.extack);
	build_conf_key(&m, nodes[2].cl.family, 2, key_k, NULL);
	nlraw_put(&m, DLOCK_A_CLUSTER_CLUSTER_ID, &cid, 2);
	i = set_conf(&nodes[2], &m, &r);
	tap_ok(i == EINVAL || i == ERANGE,
	       "a 2-byte cluster id refused (error %d \"%s\")", i, r.extack);
	get_cluster(&nodes[2].cl, &st3);
	tap_ok(st3.nfp == 1 && memcmp(st3.fp[0], st.fp[0] /* node 1's K */,
				      DLOCK_CLUSTER_KEY_FP_LEN) &&
	       st3.cluster_id == 0,
	       "refused: node 3 keeps its other key and no cluster id");

	/* Node 3 with key K and cluster id 7: the same key, another cluster. */
	build_conf_key(&m, nodes[2].cl.family, 2, key_k, NULL);
	nlraw_put(&m, DLOCK_A_CLUSTER_CLUSTER_ID, &cid, 4);
	i = set_conf(&nodes[2], &m, &r);
	tap_ok(i == 0, "SET_CLUSTER on node 3 with key K and cluster id 7 (error %d \"%s\")",
	       i, r.extack);
	get_cluster(&nodes[2].cl, &st3);
	get_cluster(&nodes[0].cl, &st);
	tap_ok(st3.cluster_id == 7 && st.cluster_id == 0 &&
	       !memcmp(st3.fp[0], st.fp[0], DLOCK_CLUSTER_KEY_FP_LEN),
	       "GET_CLUSTER: cluster id 7 on node 3, 0 on node 1, one key fingerprint");
	rx_before = peer_of(&st, nodes[2].id)->rx;
	before = peer_of(&st, nodes[2].id)->seal[DLOCK_SEAL_DROP_CLUSTER];
	nap(1500);
	get_cluster(&nodes[2].cl, &st3);
	get_cluster(&nodes[0].cl, &st);
	tap_ok(st3.role != DLOCK_ROLE_LEADER && st3.role != DLOCK_ROLE_FOLLOWER &&
	       peer_of(&st3, nodes[0].id)->rx == 0 &&
	       peer_of(&st3, nodes[1].id)->rx == 0 &&
	       /* the leader sends to it; a follower answers nothing it dropped */
	       peer_of(&st3, nodes[0].id)->seal[DLOCK_SEAL_DROP_CLUSTER] +
	       peer_of(&st3, nodes[1].id)->seal[DLOCK_SEAL_DROP_CLUSTER] > 0,
	       "node 3 (cluster 7) accepts nothing from nodes 1 and 2 (same key) and counts what they send as wrong cluster (%llu, %llu; role %u)",
	       (unsigned long long)peer_of(&st3, nodes[0].id)->seal[DLOCK_SEAL_DROP_CLUSTER],
	       (unsigned long long)peer_of(&st3, nodes[1].id)->seal[DLOCK_SEAL_DROP_CLUSTER],
	       st3.role);
	tap_ok(peer_of(&st, nodes[2].id)->rx == rx_before &&
	       peer_of(&st, nodes[2].id)->seal[DLOCK_SEAL_DROP_CLUSTER] > before,
	       "node 1 accepts nothing from node 3 and counts it as wrong cluster (%llu -> %llu)",
	       (unsigned long long)before,
	       (unsigned long long)peer_of(&st, nodes[2].id)->seal[DLOCK_SEAL_DROP_CLUSTER]);
	try_lock(&nodes[2].cl, x, &res);
	tap_ok(res.error != 0, "node 3 (cluster 7) grants nothing (error %d)",
	       res.error);

	/*
	 * Node 3 given key K, no cluster id: it joins; with the seal token
	 * bucket at its smallest (module parameters, read when a node is
	 * configured).
	 */
	old_rate = read_param("cluster_seal_rate");
	old_burst = read_param("cluster_seal_burst");
	tap_ok(old_rate == 32u << 20 && old_burst == 4u << 20 &&
	       !set_param("cluster_seal_rate", 1000) &&
	       !set_param("cluster_seal_burst", 1),
	       "cluster_seal_rate, cluster_seal_burst: defaults 32 MiB/s, 4 MiB (%lu, %lu); set to 1000, 1",
	       old_rate, old_burst);
	configure(2, key_k, NULL, &r, "with key K");
	set_param("cluster_seal_rate", old_rate);
	set_param("cluster_seal_burst", old_burst);
	L = wait_leader(15000, &term);
	tap_ok(L >= 0, "all three nodes name one leader");
	tap_ok(wait_holder_token(&nodes[2].cl, x, 5000) != 0,
	       "node 3 has the lock in its table");
	sealed_from = NULL;	/* whoever talks to node 3 */
	sealed_len = capture(&nodes[2], &sealed_from, sealed, sizeof(sealed));
	tap_ok(sealed_len >= 64 && sealed[0] == 0x44 && sealed[1] == 0x53,
	       "a sealed datagram from node %u to node 3 captured (%d bytes)",
	       sealed_from ? sealed_from->id : 0, sealed_len);
	if (!sealed_from)
		sealed_from = &nodes[0];
	sealed[47] ^= 0x40;	/* a forgery: its counter changed */
	before = seal_drops_now(&nodes[2], sealed_from, DLOCK_SEAL_DROP_AUTH);
	after = seal_drops_now(&nodes[2], sealed_from, DLOCK_SEAL_DROP_RATE);
	for (i = 0; i < 400; i++)
		send_raw(sealed_from, &nodes[2], sealed, sealed_len);
	nap(300);
	auth_n = seal_drops_now(&nodes[2], sealed_from, DLOCK_SEAL_DROP_AUTH) -
		 before;
	rate_n = seal_drops_now(&nodes[2], sealed_from, DLOCK_SEAL_DROP_RATE) -
		 after;
	/* burst 65832 (raised to one largest datagram) over about 400 a forgery */
	tap_ok(rate_n > 0 && auth_n > 0 && auth_n < 400,
	       "400 forgeries to node 3, bucket of 65832 bytes at 1000 B/s: %llu opened (auth failed), %llu rate limited",
	       (unsigned long long)auth_n, (unsigned long long)rate_n);
	cl_release(&nodes[0].cl, x, &res);
	tap_ok(!res.error, "released on node 1 (error %d)", res.error);

	/*
	 * The same forgery sent without end (cluster_flood.h): node 3's bucket
	 * for its sender stays empty, so that sender's own datagrams are
	 * dropped with the forgeries.  When the sender is the leader, node 3
	 * is cut off: its holder must be told its lease is in doubt, before
	 * any grant elsewhere.
	 */
	L = wait_leader(15000, &term);
	tap_ok(L >= 0 && L != 2, "a leader other than node 3 (node %d)", L);
	if (L >= 0 && L != 2)
		flood_run("forgery flood", (int)(sealed_from - nodes), L, 2,
			  sealed, sealed_len, sealed_from == &nodes[L]);

	for (i = 0; i < N; i++) {
		nlraw_init(&m, nodes[i].cl.family, DLOCK_CMD_SET_CLUSTER,
			   DLOCK_GENL_VERSION);
		set_conf(&nodes[i], &m, &r);
		client_close(&nodes[i].cl);
	}
	return tap_done();
}
