// SPDX-License-Identifier: GPL-2.0
/*
 * dlock peer wire codec, see wire.h for the layout.  Decoding checks that
 * the bytes a field covers are there before it reads them (every entry's
 * data length, the chunk length), then every field's range, so a malformed
 * datagram is rejected with an error and nothing is read past it.
 */
#include "compat.h"
#include "wire.h"

static void w8(u8 **p, u8 v)
{
	*(*p)++ = v;
}

static void w16(u8 **p, u16 v)
{
	w8(p, (u8)v);
	w8(p, (u8)(v >> 8));
}

static void w32(u8 **p, u32 v)
{
	w16(p, (u16)v);
	w16(p, (u16)(v >> 16));
}

static void w64(u8 **p, u64 v)
{
	w32(p, (u32)v);
	w32(p, (u32)(v >> 32));
}

static u8 r8(const u8 **p)
{
	return *(*p)++;
}

static u16 r16(const u8 **p)
{
	u16 v = r8(p);

	return v | (u16)r8(p) << 8;
}

static u32 r32(const u8 **p)
{
	u32 v = r16(p);

	return v | (u32)r16(p) << 16;
}

static u64 r64(const u8 **p)
{
	u64 v = r32(p);

	return v | (u64)r32(p) << 32;
}

static bool entry_ok(const struct repl_entry *e)
{
	return e->cmd.op < REPL_OP__MAX && !e->cmd.flags &&
	       e->cmd.node < REPL_MAX_NODES && e->cmd.len <= REPL_DATA_MAX;
}

static int check(const struct repl_msg *m)
{
	u16 i;

	if (m->type < REPL_MSG_VOTE_REQ || m->type >= REPL_MSG__MAX)
		return -EINVAL;
	if (m->flags & ~REPL_F_ALL)
		return -EINVAL;
	if (m->from >= REPL_MAX_NODES || m->to >= REPL_MAX_NODES)
		return -EINVAL;
	if (m->n_ent > REPL_MAX_BATCH)
		return -EINVAL;
	if (m->type == REPL_MSG_FORWARD && m->n_ent != 1)
		return -EINVAL;
	if ((m->flags & REPL_F_REFUSED) &&
	    (m->type != REPL_MSG_FORWARD || !m->index ||
	     m->index >= REPL_REFUSE__MAX || m->ent[0].cmd.len))
		return -EINVAL;
	if (m->type != REPL_MSG_APPEND && m->type != REPL_MSG_FORWARD &&
	    m->n_ent)
		return -EINVAL;
	if (m->type == REPL_MSG_SNAP) {
		/*
		 * the chunk lies inside the snapshot (no overflow: both
		 * terms are checked against the total first)
		 */
		if (m->blob_len > WIRE_CHUNK_MAX || m->snap_off > m->snap_len ||
		    m->blob_len > m->snap_len - m->snap_off)
			return -EINVAL;
	} else if (m->blob_len || m->snap_len ||
		   (m->snap_off && m->type != REPL_MSG_SNAP_RESP)) {
		return -EINVAL;
	}
	for (i = 0; i < m->n_ent; i++)
		if (!entry_ok(&m->ent[i]))
			return -EINVAL;
	return 0;
}

/* u64: a message with entries out of range may add up to more than u32 */
static u64 size64(const struct repl_msg *m)
{
	u64 n = WIRE_HDR + WIRE_BODY + 4 + (u64)m->blob_len;
	u16 i;

	for (i = 0; i < m->n_ent && i < REPL_MAX_BATCH; i++)
		n += WIRE_ENTRY + (u64)m->ent[i].cmd.len;
	return n;
}

u32 wire_size(const struct repl_msg *m)
{
	u64 n = size64(m);

	return n > 0xffffffffULL ? 0xffffffffU : (u32)n;
}

int wire_encode(const struct repl_msg *m, u8 *buf, u32 cap)
{
	u8 *p = buf;
	u64 size;
	u16 i;
	int err = check(m);

	if (err)
		return err;
	if (m->blob_len && !m->blob)
		return -EINVAL;
	size = size64(m);
	if (size > WIRE_MAX)
		return -EINVAL;
	if (cap < size)
		return -ENOSPC;
	w16(&p, WIRE_MAGIC);
	w8(&p, WIRE_VERSION);
	w8(&p, m->type);
	w8(&p, m->flags);
	w8(&p, 0);
	w16(&p, m->from);
	w16(&p, m->to);
	w16(&p, m->n_ent);
	w32(&p, m->nonce);
	w64(&p, m->from_inc);
	w64(&p, m->to_inc);
	w64(&p, m->term);
	w64(&p, m->index);
	w64(&p, m->log_term);
	w64(&p, m->commit);
	w64(&p, m->t_send);
	w64(&p, m->t_echo);
	w64(&p, m->snap_len);
	w64(&p, m->snap_off);
	for (i = 0; i < m->n_ent; i++) {
		const struct repl_entry *e = &m->ent[i];

		w64(&p, e->term);
		w8(&p, e->cmd.op);
		w8(&p, e->cmd.flags);
		w16(&p, e->cmd.node);
		w32(&p, e->cmd.client);
		w32(&p, e->cmd.req);
		w16(&p, e->cmd.len);
		w16(&p, 0);
		w64(&p, e->cmd.ttl);
		w64(&p, e->cmd.hold);
		w64(&p, e->cmd.arg);
		memcpy(p, e->cmd.data, e->cmd.len);
		p += e->cmd.len;
	}
	w32(&p, m->blob_len);
	if (m->blob_len)
		memcpy(p, m->blob, m->blob_len);
	p += m->blob_len;
	return (int)(p - buf);
}

/* Bytes left after p in buf[0..len). */
static u32 left(const u8 *buf, u32 len, const u8 *p)
{
	return len - (u32)(p - buf);
}

static int decode_entry(struct repl_entry *e, const u8 *buf, u32 len,
			const u8 **pp)
{
	const u8 *p = *pp;

	if (left(buf, len, p) < WIRE_ENTRY)
		return -EMSGSIZE;
	e->term = r64(&p);
	e->cmd.op = r8(&p);
	e->cmd.flags = r8(&p);
	e->cmd.node = r16(&p);
	e->cmd.client = r32(&p);
	e->cmd.req = r32(&p);
	e->cmd.len = r16(&p);
	if (r16(&p) != 0)
		return -EINVAL;
	e->cmd.ttl = r64(&p);
	e->cmd.hold = r64(&p);
	e->cmd.arg = r64(&p);
	if (e->cmd.len > REPL_DATA_MAX)
		return -EINVAL;
	if (left(buf, len, p) < e->cmd.len)
		return -EMSGSIZE;
	memcpy(e->cmd.data, p, e->cmd.len);
	/*
	 * the rest of data[] is undefined; zero it so no stale byte of an
	 * earlier message could ever be mistaken for this one's
	 */
	memset(e->cmd.data + e->cmd.len, 0, REPL_DATA_MAX - e->cmd.len);
	*pp = p + e->cmd.len;
	return 0;
}

int wire_decode(struct repl_msg *m, const u8 *buf, u32 len)
{
	const u8 *p = buf;
	u16 i;
	int err;

	/* the entries are overwritten below, only as many as there are */
	memset(m, 0, offsetof(struct repl_msg, ent));
	if (len > WIRE_MAX)
		return -EMSGSIZE;
	if (len < WIRE_HDR + WIRE_BODY + 4)
		return -EMSGSIZE;
	if (r16(&p) != WIRE_MAGIC || r8(&p) != WIRE_VERSION)
		return -EPROTO;
	m->type = r8(&p);
	m->flags = r8(&p);
	if (r8(&p) != 0)
		return -EINVAL;
	m->from = r16(&p);
	m->to = r16(&p);
	m->n_ent = r16(&p);
	if (m->n_ent > REPL_MAX_BATCH)
		return -EINVAL;
	m->nonce = r32(&p);
	m->from_inc = r64(&p);
	m->to_inc = r64(&p);
	m->term = r64(&p);
	m->index = r64(&p);
	m->log_term = r64(&p);
	m->commit = r64(&p);
	m->t_send = r64(&p);
	m->t_echo = r64(&p);
	m->snap_len = r64(&p);
	m->snap_off = r64(&p);
	for (i = 0; i < m->n_ent; i++) {
		err = decode_entry(&m->ent[i], buf, len, &p);
		if (err) {
			m->n_ent = 0;
			return err;
		}
	}
	if (left(buf, len, p) < 4) {
		m->n_ent = 0;
		return -EMSGSIZE;
	}
	m->blob_len = r32(&p);
	if (left(buf, len, p) != m->blob_len) {
		m->n_ent = 0;
		m->blob_len = 0;
		return -EMSGSIZE;
	}
	m->blob = m->blob_len ? p : NULL;
	return check(m);
}
