/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Part of test_seal.c (its nodes and helpers above it): key rotation (old
 * and new key accepted during it), the per-peer token bucket on opening
 * unauthenticated datagrams, the sender's errors, the wire codec under the
 * seal, two clusters on one network, and the drop reasons' names.
 */
#ifndef DLOCK_TEST_SEAL_KEYS_H
#define DLOCK_TEST_SEAL_KEYS_H

static void set2(int i, const u8 *ka, u8 ida, bool va, const u8 *kb,
		 u8 idb, bool vb, int tx)
{
	struct seal_key k[2] = { { .id = ida, .valid = va },
				 { .id = idb, .valid = vb } };

	memcpy(k[0].key, ka, SEAL_KEY_LEN);
	memcpy(k[1].key, kb, SEAL_KEY_LEN);
	if (seal_set_keys(&node[i], k, tx))
		abort();
}

/* both ways between nodes 0 and 1 */
static bool talk(void)
{
	u32 n = mk(0, 1, dg, 40, 1);
	bool ok = op(1, 0, dg, n) == SEAL_OK;

	n = mk(1, 0, dg, 40, 2);
	return op(0, 1, dg, n) == SEAL_OK && ok;
}

static void test_rotation(void)
{
	struct seal_key k[2] = { { .id = 1, .valid = true },
				 { .id = 1, .valid = true } };
	struct seal_hdr h;
	u32 n;
	int i, bad;

	start_all();
	T(talk(), "rotation step 0: both send and accept key 1");
	/* step 1, one node after the other: accept key 2, still send key 1 */
	set2(0, key1, 1, true, key2, 2, true, 0);
	T(talk(), "step 1 on node 0 only (accepts 2, sends 1): both ways");
	set2(1, key1, 1, true, key2, 2, true, 0);
	T(talk(), "step 1 on both");
	/* step 2, one after the other: send key 2 */
	set2(0, key1, 1, true, key2, 2, true, 1);
	n = mk(0, 1, dg, 8, 0);
	seal_hdr_get(&h, dg);
	T(h.key_id == 2 && op(1, 0, dg, n) == SEAL_OK,
	       "step 2 on node 0 (sends 2): node 1 accepts it");
	n = mk(1, 0, dg, 8, 0);
	T(op(0, 1, dg, n) == SEAL_OK, "node 0 still accepts key 1 from node 1");
	set2(1, key1, 1, true, key2, 2, true, 1);
	T(talk(), "step 2 on both");
	/* step 3: drop key 1 */
	n = mk(2, 1, dg2, 8, 0);	/* node 2 still on key 1 */
	set2(0, key2, 2, true, key1, 0, false, 0);
	set2(1, key2, 2, true, key1, 0, false, 0);
	T(talk(), "step 3 (key 2 alone): both ways");
	T(op(1, 2, dg2, n) == SEAL_DROP_KEY,
	       "a datagram under the dropped key: unknown key");
	/* a key id reused for another key is a different key: auth fails */
	set2(2, key1, 2, true, key1, 0, false, 0);
	n = mk(2, 1, dg2, 8, 0);
	T(op(1, 2, dg2, n) == SEAL_DROP_AUTH,
	       "a wrong key under a known id: auth failed");
	T(seal_set_keys(&node[0], k, 0) == -EINVAL,
	       "two keys with one id refused");
	k[1].id = 2;
	k[0].valid = false;
	T(seal_set_keys(&node[0], k, 0) == -EINVAL,
	       "sending with an absent key refused");
	/* receive-only: nothing is sent */
	k[0].valid = true;
	bad = seal_set_keys(&node[0], k, -1);
	T(!bad && seal_datagram(&node[0], 1, dg, 8) == -ENOKEY,
	       "no sending key: seal_datagram says -ENOKEY");
	for (i = 0, bad = 0; i < (int)sizeof(node[0].key); i++)
		bad |= ((u8 *)node[0].key)[i];
	seal_wipe(&node[0]);
	for (i = 0, bad = 0; i < (int)sizeof(node[0]); i++)
		bad |= ((u8 *)&node[0])[i];
	T(!bad, "seal_wipe leaves no byte of keys or state");
}

static void test_bucket(void)
{
	u64 auth = 0, rate = 0, ok = 0, i, cost;
	enum seal_drop r;
	u32 n;

	start_all();
	if (seal_set_rate(&node[1], 1 << 20, 1 << 20))
		abort();
	T(seal_set_rate(&node[1], 1 << 20, 1000) == -EINVAL,
	       "a burst below one datagram's cost is refused");
	n = mk(0, 1, dg, 1000, 1);
	if (op(1, 0, dg, n) != SEAL_OK)
		abort();
	cost = n + SEAL_COST_FIXED;
	/* forgeries from node 0's address: a changed tag, a fresh counter */
	n = mk(0, 1, dg, 1000, 2);
	dg[n - 1] ^= 1;
	for (i = 0; i < 5000; i++) {
		r = op(1, 0, dg, n);
		auth += r == SEAL_DROP_AUTH;
		rate += r == SEAL_DROP_RATE;
	}
	T(auth == (1 << 20) / cost && rate == 5000 - auth,
	       "a flood of 5000 forgeries: %llu opened (burst / cost = %llu), %llu rate limited",
	       (unsigned long long)auth,
	       (unsigned long long)((1 << 20) / cost),
	       (unsigned long long)rate);
	now += 500000000;	/* half a second: half the rate */
	auth = 0;
	for (i = 0; i < 5000; i++)
		auth += op(1, 0, dg, n) == SEAL_DROP_AUTH;
	T(auth >= (1 << 19) / cost - 1 && auth <= (1 << 19) / cost + 1,
	       "0.5 s later: %llu more opened (rate 1 MiB/s)",
	       (unsigned long long)auth);
	n = mk(2, 1, dg2, 1000, 1);
	T(op(1, 2, dg2, n) == SEAL_OK,
	       "another sender's bucket is its own: accepted");
	/* cheap drops cost nothing: wrong cluster, replays */
	start_all();
	if (seal_set_rate(&node[1], 0, 1 << 20))
		abort();
	n = mk(0, 1, dg, 1000, 1);
	if (op(1, 0, dg, n) != SEAL_OK)
		abort();
	for (i = 0; i < 10000; i++)
		op(1, 0, dg, n);	/* replays */
	dg[12] ^= 1;			/* cluster id */
	for (i = 0; i < 10000; i++)
		op(1, 0, dg, n);
	n = mk(0, 1, dg, 1000, 2);
	dg[n - 1] ^= 1;
	T(op(1, 0, dg, n) == SEAL_DROP_AUTH,
	       "20000 replays and wrong-cluster datagrams spent no tokens: a forgery is still opened");
	/* genuine traffic gives back what it cost: never rate limited */
	start_all();
	if (seal_set_rate(&node[1], 0, 1 << 20))
		abort();
	for (i = 0; i < 2000; i++) {
		n = mk(0, 1, dg, 4000, (u32)i);
		ok += op(1, 0, dg, n) == SEAL_OK;
	}
	T(ok == 2000,
	       "2000 genuine datagrams of 4 KB (8 times the burst) at one instant with rate 0: all accepted (%llu)",
	       (unsigned long long)ok);
}

static void test_sender_errors(void)
{
	start_all();
	T(seal_datagram(&node[0], 0, dg, 8) == -EINVAL &&
	       seal_datagram(&node[0], SEAL_PEERS, dg, 8) == -EINVAL &&
	       seal_datagram(&node[0], 1, dg, SEAL_BODY_MAX + 1) == -EINVAL,
	       "seal_datagram: own slot, a slot out of range, a body too long: -EINVAL");
	node[0].counter = SEAL_COUNTER_LIMIT;
	T(seal_datagram(&node[0], 1, dg, 8) == -EOVERFLOW,
	       "counter spent: -EOVERFLOW, never wraps");
	T(seal_set_peer(&node[0], 1, 30) == -EINVAL &&
	       seal_set_peer(&node[0], 1, 10) == -EINVAL &&
	       seal_set_peer(&node[0], SEAL_PEERS, 40) == -EINVAL,
	       "seal_set_peer: an id twice, our own id, a slot out of range: -EINVAL");
}

/* The real thing: a wire message sealed, opened, decoded. */
static void test_wire(void)
{
	static struct repl_msg m, m2;
	enum seal_drop r;
	unsigned int from;
	u32 blen;
	int n, len;

	start_all();
	memset(&m, 0, sizeof(m));
	m.type = REPL_MSG_APPEND;
	m.from = 0;
	m.to = 1;
	m.term = 42;
	m.n_ent = 1;
	m.ent[0].term = 42;
	m.ent[0].cmd.op = REPL_OP_ACQUIRE;
	m.ent[0].cmd.len = 5;
	memcpy(m.ent[0].cmd.data, "lock1", 5);
	len = wire_encode(&m, dg + SEAL_HDR, WIRE_MAX);
	n = seal_datagram(&node[0], 1, dg, (u32)len);
	r = seal_open(&node[1], 0, dg, (u32)n, now, &blen, &from);
	T(len > 0 && r == SEAL_OK && blen == (u32)len &&
	       !wire_decode(&m2, dg + SEAL_HDR, blen) && m2.term == 42 &&
	       m2.n_ent == 1 && !memcmp(m2.ent[0].cmd.data, "lock1", 5),
	       "a wire message sealed, opened and decoded");
}

/*
 * Two clusters that share the key but not the cluster id: neither accepts
 * the other's datagrams, neither as they are (wrong cluster, before any
 * cryptography) nor with the header's cluster id rewritten to the
 * receiver's (it is in the associated data and the key derivation).
 */
static void test_two_clusters(void)
{
	static struct seal_ctx other;
	struct seal_key k[2] = { { .id = 1, .valid = true } };
	u64 acc, auth, cl;
	u32 len, len2;
	unsigned int from;
	int j;

	start_all();
	/* node 20 of cluster CLUSTER + 1, with the same key and peers */
	memcpy(k[0].key, key1, SEAL_KEY_LEN);
	seal_init(&other, &seal_host_ops, CLUSTER + 1, ids[1], boot[1] + 5, 99);
	for (j = 0; j < NODES; j++)
		if (j != 1 && seal_set_peer(&other, j, ids[j]))
			abort();
	if (seal_set_keys(&other, k, 0))
		abort();
	len = mk(0, 1, dg, 100, 1);
	memcpy(dg2, dg, len);
	acc = other.accepted;
	cl = other.drops[SEAL_DROP_CLUSTER];
	auth = other.drops[SEAL_DROP_AUTH];
	T(op_src(1, 0, dg, len) == SEAL_OK,
	  "two clusters, one key: the datagram opens in its own cluster");
	memcpy(dg, dg2, len);
	T(seal_open(&other, 0, dg, len, now, &len2, &from) ==
	  SEAL_DROP_CLUSTER && other.drops[SEAL_DROP_CLUSTER] == cl + 1,
	  "... and is dropped as wrong cluster in the other (same key, same node ids)");
	memcpy(dg, dg2, len);
	dg[12] = (u8)(CLUSTER + 1);	/* the header's cluster id, rewritten */
	T(seal_open(&other, 0, dg, len, now, &len2, &from) ==
	  SEAL_DROP_AUTH && other.drops[SEAL_DROP_AUTH] == auth + 1,
	  "... and with its cluster id rewritten to the other's: auth failed");
	/* the other way round */
	seal_init(&other, &seal_host_ops, CLUSTER + 1, ids[2], boot[2] + 5, 98);
	for (j = 0; j < NODES; j++)
		if (j != 2 && seal_set_peer(&other, j, ids[j]))
			abort();
	if (seal_set_keys(&other, k, 0))
		abort();
	len = (u32)seal_datagram(&other, 0, dg, 100);
	memcpy(dg2, dg, len);
	T(op_src(0, 2, dg, len) == SEAL_DROP_CLUSTER,
	  "a datagram of the other cluster to ours: wrong cluster");
	dg[12] = (u8)CLUSTER;
	T(op_src(0, 2, dg, len) == SEAL_DROP_AUTH,
	  "... with our cluster id written in: auth failed");
	T(other.accepted == acc && node[0].peer[2].have == false,
	  "nothing accepted across the clusters, no boot of the other adopted");
	seal_wipe(&other);
}

static void test_names(void)
{
	int i, ok = 1, j;

	for (i = 0; i < SEAL_DROP__MAX; i++)
		for (j = 0; j < i; j++)
			if (!strcmp(seal_drop_name(i), seal_drop_name(j)))
				ok = 0;
	T(ok && !strcmp(seal_drop_name(SEAL_DROP_AUTH), "auth failed"),
	       "every drop reason has its own name");
}

#endif /* DLOCK_TEST_SEAL_KEYS_H */
