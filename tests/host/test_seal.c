// SPDX-License-Identifier: GPL-2.0
/*
 * Host tests of kmod/seal.c (sealed peer datagrams, issue 15) over the
 * OpenSSL stand-in of the kernel's lib/crypto (seal_host.c): known answers
 * of the cryptography, round trips, every header field and every bit of a
 * datagram changed, the replay window against a model, sender and receiver
 * restarts; key rotation, the token bucket, the sender's errors and two
 * clusters side by side are in test_seal_keys.h.  TAP on stdout.  Built with
 * -DSEAL_PLANT=n it runs against a planted bug of seal.c and must fail
 * (tests/host/seal-plants.sh).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "seal.h"
#include "wire.h"
#include "seal_host.h"
#include "seal_vectors.h"
#include "tap.h"

_Static_assert(SEAL_BODY_MAX == WIRE_MAX, "a sealed body is one wire message");
_Static_assert(SEAL_MAX <= 65507, "a sealed datagram fits one IPv4 UDP datagram");

#define NODES	3
#define CLUSTER	0xc1u
static const u16 ids[NODES] = { 10, 20, 30 };
static const u64 boot[NODES] = { 1000000, 2000000, 3000000 };
static struct seal_ctx node[NODES];
static u8 key1[SEAL_KEY_LEN], key2[SEAL_KEY_LEN];
static u64 now = 1;
static const char *pfx = "";

/* the sanitized run's names start "san: ", so both sets count */
#define T(cond, fmt, ...) tap_ok((cond), "%s" fmt, pfx, ##__VA_ARGS__)

/* node i: slot j is node j */
static void start(int i, u64 epoch, u32 salt)
{
	struct seal_key k[2] = { { .id = 1, .valid = true } };
	int j;

	memcpy(k[0].key, key1, SEAL_KEY_LEN);
	seal_init(&node[i], &seal_host_ops, CLUSTER, ids[i], epoch, salt);
	for (j = 0; j < NODES; j++)
		if (j != i && seal_set_peer(&node[i], j, ids[j]))
			abort();
	if (seal_set_keys(&node[i], k, 0))
		abort();
}

static void start_all(void)
{
	int i;

	for (i = 0; i < NODES; i++)
		start(i, boot[i], 7 + i);
}

static void body_fill(u8 *p, u32 len, u32 seed)
{
	u32 i;

	for (i = 0; i < len; i++)
		p[i] = (u8)(seed * 131 + i * 7);
}

/* a datagram from node i to node j with a len-byte body; returns its length */
static u32 mk(int i, int j, u8 *d, u32 len, u32 seed)
{
	int n;

	body_fill(d + SEAL_HDR, len, seed);
	n = seal_datagram(&node[i], j, d, len);
	if (n != (int)(SEAL_HDR + len + SEAL_TAG)) {
		fprintf(stderr, "seal_datagram: %d\n", n);
		abort();
	}
	return (u32)n;
}

/* node j opens a copy of d from source slot src */
static enum seal_drop op_src(int j, int src, const u8 *d, u32 len)
{
	u8 *b = malloc(len ? len : 1);
	unsigned int from;
	enum seal_drop r;
	u32 blen;

	memcpy(b, d, len);
	r = seal_open(&node[j], src, b, len, now, &blen, &from);
	free(b);
	return r;
}

static enum seal_drop op(int j, int i, const u8 *d, u32 len)
{
	return op_src(j, i, d, len);
}

static u8 dg[SEAL_MAX + 1], dg2[SEAL_MAX + 1];	/* + 1: a datagram too long */

static void test_vectors(void)
{
	u8 out[sizeof(a5_output)], b[64];
	u64 n = dl_get_le64(a5_nonce);
	char pt[sizeof(rfc_pt)];

	seal_host_aead(1, out, (const u8 *)rfc_pt, sizeof(rfc_pt) - 1, rfc_aad,
		       sizeof(rfc_aad), rfc_nonce, rfc_key);
	T(sizeof(rfc_ct_tag) == sizeof(rfc_pt) - 1 + 16 &&
	       !memcmp(out, rfc_ct_tag, sizeof(rfc_ct_tag)),
	       "RFC 8439 2.8.2: ChaCha20-Poly1305 ciphertext and tag");
	T(!seal_host_aead(0, (u8 *)pt, rfc_ct_tag, sizeof(rfc_pt) - 1,
			       rfc_aad, sizeof(rfc_aad), rfc_nonce, rfc_key) &&
	       !memcmp(pt, rfc_pt, sizeof(rfc_pt) - 1),
	       "RFC 8439 2.8.2: decrypts back");
	/* the kernel library's form: a u64 nonce, through the ops */
	seal_host_ops.seal(out, a5_input, sizeof(a5_input), a5_assoc,
			   sizeof(a5_assoc), n, a5_key);
	T(sizeof(a5_output) == sizeof(a5_input) + 16 &&
	       !memcmp(out, a5_output, sizeof(a5_output)),
	       "RFC 8439 A.5 through the u64-nonce seal op (the kernel's form)");
	T(seal_host_ops.open(out, a5_output, sizeof(a5_input), a5_assoc,
				  sizeof(a5_assoc), n, a5_key) &&
	       !memcmp(out, a5_input, sizeof(a5_input)),
	       "RFC 8439 A.5: open verifies and decrypts");
	memcpy(out, a5_output, sizeof(a5_output));
	out[sizeof(a5_output) - 1] ^= 1;
	T(!seal_host_ops.open(out, out, sizeof(a5_input), a5_assoc,
				   sizeof(a5_assoc), n, a5_key),
	       "RFC 8439 A.5: a changed tag does not verify");
	for (n = 0; n < 32; n++)
		b[n] = (u8)n;
	seal_host_ops.kdf(out, b, NULL, 0);
	T(!memcmp(out, b2s_empty, 32),
	       "BLAKE2s-256 keyed 00..1f over \"\": the reference answer");
}

/* The format pinned: one datagram, byte for byte as the kernel made it. */
static void test_known_datagram(void)
{
	static struct seal_ctx a, b;
	struct seal_key k[2] = { { .id = 3, .valid = true } };
	unsigned int i, from;
	enum seal_drop r;
	u32 blen;
	int n;

	for (i = 0; i < SEAL_KEY_LEN; i++)
		k[0].key[i] = (u8)(i * 7 + 1);
	seal_init(&a, &seal_host_ops, 0xabc, 1, 1700000000123456789ULL,
		  0xdeadbeef);
	seal_init(&b, &seal_host_ops, 0xabc, 2, 1700000000999999999ULL,
		  0x12345678);
	if (seal_set_peer(&a, 0, 2) || seal_set_peer(&b, 0, 1) ||
	    seal_set_keys(&a, k, 0) || seal_set_keys(&b, k, 0))
		abort();
	a.counter = 77;
	for (i = 0; i < 100; i++)
		dg[SEAL_HDR + i] = (u8)i;
	n = seal_datagram(&a, 0, dg, 100);
	T(n == (int)sizeof(known_datagram) &&
	  !memcmp(dg, known_datagram, sizeof(known_datagram)),
	  "a fixed datagram is byte for byte the one the kernel's seal_crypto.c made");
	memcpy(dg, known_datagram, sizeof(known_datagram));
	r = seal_open(&b, 0, dg, sizeof(known_datagram), 1, &blen, &from);
	T(r == SEAL_OK && blen == 100 && dg[SEAL_HDR + 99] == 99,
	  "and the kernel's datagram opens on the host");
}

static void test_round_trip(void)
{
	u32 lens[] = { 0, 1, 100, 1500, SEAL_BODY_MAX };
	unsigned int i, from = 99, ok = 0;
	enum seal_drop r;
	u32 blen = 0;

	start_all();
	for (i = 0; i < ARRAY_SIZE(lens); i++) {
		u32 n = mk(0, 1, dg, lens[i], i);

		memcpy(dg2, dg, n);
		body_fill(dg + SEAL_HDR, lens[i], i);
		r = seal_open(&node[1], 0, dg2, n, now, &blen, &from);
		if (r == SEAL_OK && from == 0 && blen == lens[i] &&
		    !memcmp(dg2 + SEAL_HDR, dg + SEAL_HDR, blen))
			ok++;
		else
			printf("# length %u: %s\n", lens[i], seal_drop_name(r));
	}
	T(ok == ARRAY_SIZE(lens) && node[1].accepted == ok,
	       "seal then open, bodies of 0, 1, 100, 1500, 65000 bytes");
	i = mk(1, 0, dg, 8, 1);
	if (op(0, 1, dg, i) != SEAL_OK)	/* node 0 hears node 1's boot */
		abort();
	i = mk(0, 1, dg, 100, 1);
	body_fill(dg2, 100, 1);
	T(memcmp(dg + SEAL_HDR, dg2, 100) != 0,
	       "the body is encrypted on the wire");
	T(op(2, 0, dg, i) == SEAL_DROP_RECEIVER,
	       "a datagram for node 1 is refused by node 2");
	T(op(1, 0, dg, i) == SEAL_OK, "and accepted by node 1");
	/* the header is the associated data: in clear, as sent */
	{
		struct seal_hdr h;

		seal_hdr_get(&h, dg);
		T(h.magic == SEAL_MAGIC && h.sender == 10 &&
		       h.receiver == 20 && h.cluster == CLUSTER &&
		       h.epoch == boot[0] && h.salt == 7 && h.key_id == 1 &&
		       h.rx_epoch == boot[1] && h.counter == ARRAY_SIZE(lens),
		       "header: ids, cluster, epoch, salt, key id, the receiver's epoch once heard from, counter");
	}
}

/* One header field changed to value: the reason expected. */
struct field_case {
	const char *what;
	void (*set)(struct seal_hdr *h);
	enum seal_drop want;
};

#define SETTER(name, stmt) \
	static void name(struct seal_hdr *h) { stmt; }
SETTER(f_magic, h->magic ^= 1)
SETTER(f_version, h->version = 2)
SETTER(f_type, h->type = 2)
SETTER(f_flags, h->flags = 1)
SETTER(f_rsv16, h->rsv16 = 1)
SETTER(f_rsv32, h->rsv32 = 0x100)
SETTER(f_cluster, h->cluster = CLUSTER + 1)
SETTER(f_receiver, h->receiver = 30)
SETTER(f_receiver0, h->receiver = 0)
SETTER(f_sender_unknown, h->sender = 99)
SETTER(f_sender_self, h->sender = 20)
SETTER(f_sender_other, h->sender = 30)
SETTER(f_key_unknown, h->key_id = 9)
SETTER(f_epoch_old, h->epoch -= 1)
SETTER(f_epoch_new, h->epoch += 1)
SETTER(f_salt_low, h->salt -= 1)
SETTER(f_salt_high, h->salt += 1)
SETTER(f_rx_epoch, h->rx_epoch += 1)
SETTER(f_rx_epoch0, h->rx_epoch = 0)
SETTER(f_counter, h->counter += 1)
SETTER(f_counter_old, h->counter -= 1)
SETTER(f_counter_max, h->counter = ~0ULL)

static void test_header_fields(void)
{
	static const struct field_case cases[] = {
		{ "magic", f_magic, SEAL_DROP_VERSION },
		{ "version 2", f_version, SEAL_DROP_VERSION },
		{ "type 2", f_type, SEAL_DROP_VERSION },
		{ "flags 1", f_flags, SEAL_DROP_VERSION },
		{ "reserved u16", f_rsv16, SEAL_DROP_VERSION },
		{ "reserved u32", f_rsv32, SEAL_DROP_VERSION },
		{ "cluster id", f_cluster, SEAL_DROP_CLUSTER },
		{ "receiver: another node", f_receiver, SEAL_DROP_RECEIVER },
		{ "receiver 0", f_receiver0, SEAL_DROP_RECEIVER },
		{ "sender: unknown id", f_sender_unknown, SEAL_DROP_SENDER },
		{ "sender: the receiver itself", f_sender_self, SEAL_DROP_SENDER },
		{ "sender: another member (source check off)", f_sender_other, SEAL_DROP_AUTH },
		{ "key id unknown", f_key_unknown, SEAL_DROP_KEY },
		{ "epoch older", f_epoch_old, SEAL_DROP_EPOCH },
		{ "epoch newer", f_epoch_new, SEAL_DROP_AUTH },
		{ "salt lower", f_salt_low, SEAL_DROP_EPOCH },
		{ "salt higher", f_salt_high, SEAL_DROP_AUTH },
		{ "receiver epoch another", f_rx_epoch, SEAL_DROP_EPOCH },
		{ "receiver epoch 0", f_rx_epoch0, SEAL_DROP_AUTH },
		{ "counter + 1", f_counter, SEAL_DROP_AUTH },
		{ "counter - 1 (accepted before)", f_counter_old, SEAL_DROP_REPLAY },
		{ "counter 2^64 - 1", f_counter_max, SEAL_DROP_VERSION },
	};
	struct seal_hdr h;
	unsigned int i;
	u32 n;

	start_all();
	/* node 1 has heard node 0, and node 0 has heard node 1 */
	n = mk(0, 1, dg, 64, 0);
	if (op(1, 0, dg, n) != SEAL_OK)
		abort();
	n = mk(1, 0, dg, 64, 0);
	if (op(0, 1, dg, n) != SEAL_OK)
		abort();
	for (i = 0; i < 5; i++) {
		n = mk(0, 1, dg, 64, 0);
		if (op(1, 0, dg, n) != SEAL_OK)
			abort();
	}
	n = mk(0, 1, dg, 64, 1);
	for (i = 0; i < ARRAY_SIZE(cases); i++) {
		enum seal_drop r;
		u64 before = node[1].drops[cases[i].want];

		memcpy(dg2, dg, n);
		seal_hdr_get(&h, dg2);
		cases[i].set(&h);
		seal_hdr_put(dg2, &h);
		r = op_src(1, -1, dg2, n);
		T(r == cases[i].want &&
		       node[1].drops[r] == before + 1,
		       "header field %s: dropped as \"%s\" (got \"%s\"), counted",
		       cases[i].what, seal_drop_name(cases[i].want),
		       seal_drop_name(r));
	}
	T(op_src(1, 2, dg, n) == SEAL_DROP_SENDER,
	       "sender id not the node its address belongs to: unknown sender");
	T(op(1, 0, dg, n) == SEAL_OK,
	       "the unchanged datagram is still accepted after all of them");
}

static void test_every_bit(void)
{
	u32 n, i, b, acc = 0, bad_reason = 0, total = 0;
	enum seal_drop r;

	start_all();
	n = mk(0, 1, dg, 200, 3);
	if (op(1, 0, dg2, mk(0, 1, dg2, 10, 9)) != SEAL_OK)
		abort();
	for (i = 0; i < n; i++)
		for (b = 0; b < 8; b++) {
			dg[i] ^= 1 << b;
			r = op(1, 0, dg, n);
			dg[i] ^= 1 << b;
			total++;
			if (r == SEAL_OK)
				acc++;
			/* past the header only the tag can tell */
			if (i >= SEAL_HDR && r != SEAL_DROP_AUTH)
				bad_reason++;
		}
	T(acc == 0, "every one of the %u single-bit changes of a sealed datagram is dropped (%u accepted)",
	       total, acc);
	T(bad_reason == 0,
	       "a change in the body or tag is dropped as \"auth failed\"");
	T(node[1].drops[SEAL_DROP_AUTH] >= (n - SEAL_HDR) * 8,
	       "auth failures counted (%llu)",
	       (unsigned long long)node[1].drops[SEAL_DROP_AUTH]);
	T(op(1, 0, dg, n - 1) == SEAL_DROP_AUTH &&
	       op(1, 0, dg, SEAL_HDR + SEAL_TAG - 1) == SEAL_DROP_LEN &&
	       op(1, 0, dg, 0) == SEAL_DROP_LEN &&
	       op(1, 0, dg, SEAL_MAX + 1) == SEAL_DROP_LEN,
	       "lengths: one byte short is auth failed; below header + tag, 0, above the maximum: bad length");
	T(op(1, 0, dg, n) == SEAL_OK, "then the original is accepted");
}

/* The replay window against a model: accepted once, unless too far behind. */
static void test_window(void)
{
	static u8 seen[300000];
	u64 top = 0, i, n_ok = 0, n_rep = 0, n_old = 0, bad = 0;
	u64 have_any = 0;
	u32 len, seed = 12345;
	enum seal_drop r, want;
	u64 c;

	start_all();
	memset(seen, 0, sizeof(seen));
	for (i = 0; i < 60000; i++) {
		seed = seed * 1103515245 + 12345;
		/* mostly near the top, sometimes far back or far ahead */
		switch ((seed >> 16) % 8) {
		case 0:
			c = (seed >> 3) % 250000;
			break;
		case 1:
			c = top + (seed >> 8) % 3000;
			break;
		default:
			c = top > 2100 ? top - 2100 + (seed >> 8) % 2200 :
				(seed >> 8) % 2200;
		}
		if (c >= sizeof(seen))
			c = sizeof(seen) - 1;
		node[0].counter = c;
		len = mk(0, 1, dg, 16, (u32)c);
		if (!have_any)
			want = SEAL_OK;
		else if (c <= top && top - c >= SEAL_WINDOW)
			want = SEAL_DROP_TOO_OLD;
		else if (seen[c])
			want = SEAL_DROP_REPLAY;
		else
			want = SEAL_OK;
		r = op(1, 0, dg, len);
		if (r != want) {
			if (bad++ < 5)
				printf("# counter %llu top %llu: got %s want %s\n",
				       (unsigned long long)c,
				       (unsigned long long)top, seal_drop_name(r),
				       seal_drop_name(want));
		}
		if (r == SEAL_OK) {
			seen[c] = 1;
			if (!have_any || c > top)
				top = c;
			have_any = 1;
			n_ok++;
		} else if (r == SEAL_DROP_REPLAY) {
			n_rep++;
		} else if (r == SEAL_DROP_TOO_OLD) {
			n_old++;
		}
	}
	T(bad == 0 && n_ok && n_rep && n_old,
	       "window against its model, 60000 random counters: %llu accepted, %llu replays, %llu too old, %llu wrong",
	       (unsigned long long)n_ok, (unsigned long long)n_rep,
	       (unsigned long long)n_old, (unsigned long long)bad);

	/* reordering: 1,500 datagrams delivered backwards, all accepted once */
	start_all();
	{
		static u8 d[1500][SEAL_HDR + 8 + SEAL_TAG];
		u32 k, ok = 0, again = 0;

		for (k = 0; k < 1500; k++)
			mk(0, 1, d[k], 8, k);
		for (k = 1500; k-- > 0;)
			ok += op(1, 0, d[k], sizeof(d[k])) == SEAL_OK;
		for (k = 0; k < 1500; k++)
			again += op(1, 0, d[k], sizeof(d[k])) ==
				 SEAL_DROP_REPLAY;
		T(ok == 1500 && again == 1500,
		       "1500 datagrams in reverse order: all accepted (%u), each replay refused (%u)",
		       ok, again);
	}
	/* the window's edges */
	start_all();
	node[0].counter = 100000;
	len = mk(0, 1, dg, 8, 0);
	r = op(1, 0, dg, len);
	node[0].counter = 100000 - SEAL_WINDOW;
	len = mk(0, 1, dg, 8, 0);
	want = op(1, 0, dg, len);
	node[0].counter = 100000 - SEAL_WINDOW + 1;
	len = mk(0, 1, dg, 8, 0);
	T(r == SEAL_OK && want == SEAL_DROP_TOO_OLD &&
	       op(1, 0, dg, len) == SEAL_OK,
	       "window is %d counters: top - %d too old, top - %d accepted",
	       SEAL_WINDOW, SEAL_WINDOW, SEAL_WINDOW - 1);
	T(SEAL_WINDOW >= 1024, "window of at least 1024 counters (%d)",
	       SEAL_WINDOW);
}

static void test_restarts(void)
{
	u32 n, n_old, n2;
	u8 old[SEAL_HDR + 32 + SEAL_TAG];

	start_all();
	n = mk(0, 1, dg, 32, 1);
	T(op(1, 0, dg, n) == SEAL_OK, "boot 1 of node 0 heard");
	n_old = mk(0, 1, old, 32, 2);	/* kept, never delivered */
	node[0].counter = 500000;
	n = mk(0, 1, dg, 32, 3);
	T(op(1, 0, dg, n) == SEAL_OK, "counter 500000 of boot 1");
	/* node 0 restarts with no memory: a later epoch, a new salt */
	start(0, boot[0] + 5, 1);
	n2 = mk(0, 1, dg2, 32, 4);
	{
		struct seal_hdr h;

		seal_hdr_get(&h, dg2);
		T(h.counter == 0 && h.rx_epoch == 0,
		       "after a restart the counter starts at 0 again, the receiver's epoch unknown");
	}
	T(op(1, 0, dg2, n2) == SEAL_OK,
	       "boot 2's first datagram (counter 0) is accepted: a new window");
	T(op(1, 0, old, n_old) == SEAL_DROP_EPOCH,
	       "a datagram of boot 1 never delivered before is now refused: old epoch");
	T(op(1, 0, dg, n) == SEAL_DROP_EPOCH,
	       "and a replay of one of boot 1: old epoch");
	T(op(1, 0, dg2, n2) == SEAL_DROP_REPLAY, "boot 2's datagram again: replay");
	/* same wall-clock epoch (a clock set back) but another salt */
	{
		u8 a[SEAL_HDR + 64 + SEAL_TAG], b[SEAL_HDR + 64 + SEAL_TAG];

		start(2, 777, 1);
		mk(2, 1, a, 64, 5);
		start(2, 777, 2);
		mk(2, 1, b, 64, 5);
		T(memcmp(a + SEAL_HDR, b + SEAL_HDR, 64) != 0,
		       "two boots with the same epoch and counter but other salts: other keystreams (no nonce reuse)");
		start(1, 777, 2);
		start(2, 777, 2);
		mk(1, 0, a, 64, 5);
		mk(2, 0, b, 64, 5);
		T(memcmp(a + SEAL_HDR, b + SEAL_HDR, 64) != 0,
		       "two senders with the same epoch, salt and counter: other keystreams");
	}
	/* the receiver restarts: datagrams naming its old boot are refused */
	start_all();
	n = mk(1, 0, dg, 8, 1);
	if (op(0, 1, dg, n) != SEAL_OK)	/* node 0 hears node 1's boot */
		abort();
	start(1, boot[1] + 9, 3);
	n = mk(0, 1, dg, 8, 2);
	T(op(1, 0, dg, n) == SEAL_DROP_EPOCH,
	       "receiver restarted: a datagram addressed to its previous boot is refused");
	body_fill(dg + SEAL_HDR, 8, 5);
	n = (u32)seal_datagram_any_boot(&node[0], 1, dg, 8);
	T(n == SEAL_HDR + 8 + SEAL_TAG && op(1, 0, dg, n) == SEAL_OK,
	       "but one sealed for whichever boot it lives now (a recovering node's RECOVER_REQ) is accepted");
	n = mk(1, 0, dg, 8, 3);
	if (op(0, 1, dg, n) != SEAL_OK)
		abort();
	n = mk(0, 1, dg, 8, 4);
	T(op(1, 0, dg, n) == SEAL_OK,
	       "once the sender has heard its new boot, accepted again");
}

/* A forgery claiming a new boot of a member changes nothing. */
static void test_forged_boot(void)
{
	struct seal_hdr h;
	u32 n, n1;

	start_all();
	n1 = mk(0, 1, dg2, 16, 1);
	if (op(1, 0, dg2, n1) != SEAL_OK)
		abort();
	n = mk(0, 1, dg, 16, 2);
	seal_hdr_get(&h, dg);
	h.epoch += 1000;
	h.counter = 0;
	seal_hdr_put(dg, &h);
	T(op(1, 0, dg, n) == SEAL_DROP_AUTH,
	       "a forged newer boot of a member: auth failed");
	T(op(1, 0, dg2, n1) == SEAL_DROP_REPLAY,
	       "afterwards the member's old datagram is still a replay (its window kept)");
	n = mk(0, 1, dg, 16, 3);
	T(op(1, 0, dg, n) == SEAL_OK,
	       "and the member's next datagram is accepted (its boot kept)");
}

#include "test_seal_keys.h"

int main(int argc, char **argv)
{
	int i;

	if (argc > 1 && !strcmp(argv[1], "--san"))
		pfx = "san: ";
	for (i = 0; i < SEAL_KEY_LEN; i++) {
		key1[i] = (u8)(i + 1);
		key2[i] = (u8)(0xa0 + i);
	}
	test_vectors();
	test_known_datagram();
	test_round_trip();
	test_header_fields();
	test_every_bit();
	test_window();
	test_restarts();
	test_forged_boot();
	test_rotation();
	test_bucket();
	test_sender_errors();
	test_wire();
	test_two_clusters();
	test_names();
	return tap_done();
}
