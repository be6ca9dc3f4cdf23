// SPDX-License-Identifier: GPL-2.0
/*
 * Seed corpus for fuzz_wire: one valid datagram of every message type,
 * entries with bodies of 0, 1 and REPL_DATA_MAX bytes, SNAP chunks.  From an
 * empty corpus libFuzzer does not get past the magic and version bytes in
 * minutes (it stayed at 15 edges for 16M runs); from these it explores the
 * decoder at once.  Usage: fuzz_seeds DIR
 */
#include <stdio.h>
#include "wire.h"

static struct repl_msg m;
static u8 buf[WIRE_MAX], chunk[WIRE_CHUNK_MAX];

static int put(const char *dir, int k)
{
	char path[4096];
	int n = wire_encode(&m, buf, sizeof(buf));
	FILE *f;

	if (n < 0) {
		fprintf(stderr, "fuzz_seeds: seed %d does not encode (%d)\n", k, n);
		return 1;
	}
	snprintf(path, sizeof(path), "%s/seed-%02d", dir, k);
	f = fopen(path, "wb");
	if (!f || fwrite(buf, 1, n, f) != (size_t)n || fclose(f)) {
		perror(path);
		return 1;
	}
	return 0;
}

static void head(u8 type)
{
	memset(&m, 0, sizeof(m));
	m.type = type;
	m.from = 1;
	m.to = 2;
	m.from_inc = 11;
	m.to_inc = 12;
	m.term = 3;
	m.index = 40;
	m.log_term = 2;
	m.commit = 39;
	m.t_send = 1000;
	m.t_echo = 900;
}

int main(int argc, char **argv)
{
	static const u16 lens[] = { 0, 1, 5, REPL_DATA_MAX };
	int k = 0, bad = 0;
	u16 i;
	u8 t;

	if (argc != 2) {
		fprintf(stderr, "usage: fuzz_seeds DIR\n");
		return 2;
	}
	for (t = REPL_MSG_VOTE_REQ; t < REPL_MSG__MAX; t++) {
		head(t);
		if (t == REPL_MSG_APPEND || t == REPL_MSG_FORWARD) {
			m.n_ent = t == REPL_MSG_APPEND ? 4 : 1;
			for (i = 0; i < m.n_ent; i++) {
				m.ent[i].term = 3;
				m.ent[i].cmd.op = (u8)(REPL_OP_ACQUIRE + i);
				m.ent[i].cmd.node = 1;
				m.ent[i].cmd.client = 7;
				m.ent[i].cmd.req = i + 1;
				m.ent[i].cmd.len = lens[i];
				memset(m.ent[i].cmd.data, 'a' + i, lens[i]);
			}
		}
		if (t == REPL_MSG_SNAP) {
			m.snap_len = 3 * 1000;
			m.snap_off = 1000;
			m.blob = chunk;
			m.blob_len = 1000;
		}
		if (t == REPL_MSG_SNAP_RESP)
			m.snap_off = 2000;
		bad |= put(argv[1], k++);
	}
	return bad;
}
