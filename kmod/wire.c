// SPDX-License-Identifier: GPL-2.0
/*
 * dlock peer wire codec, see wire.h for the layout.  Decoding checks the
 * total length before it reads anything, then every field's range, so a
 * malformed datagram is rejected with an error and nothing is read past it.
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
	return e->cmd.op < REPL_OP__MAX && e->cmd.mode <= REPL_MODE_SHARED &&
	       e->cmd.node < REPL_MAX_NODES;
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
	if (m->type != REPL_MSG_APPEND && m->type != REPL_MSG_FORWARD &&
	    m->n_ent)
		return -EINVAL;
	if (m->type == REPL_MSG_SNAP ? m->blob_len > WIRE_BLOB_MAX :
	    m->blob_len != 0)
		return -EINVAL;
	for (i = 0; i < m->n_ent; i++)
		if (!entry_ok(&m->ent[i]))
			return -EINVAL;
	return 0;
}

u32 wire_size(const struct repl_msg *m)
{
	return WIRE_HDR + WIRE_BODY + (u32)m->n_ent * WIRE_ENTRY + 4 +
	       m->blob_len;
}

int wire_encode(const struct repl_msg *m, u8 *buf, u32 cap)
{
	u8 *p = buf;
	u16 i;
	int err = check(m);

	if (err)
		return err;
	if (m->blob_len && !m->blob)
		return -EINVAL;
	if (cap < wire_size(m))
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
	for (i = 0; i < m->n_ent; i++) {
		const struct repl_entry *e = &m->ent[i];

		w64(&p, e->term);
		w8(&p, e->cmd.op);
		w8(&p, e->cmd.mode);
		w16(&p, e->cmd.node);
		w32(&p, e->cmd.client);
		w32(&p, e->cmd.req);
		w32(&p, e->cmd.lock);
		w64(&p, e->cmd.ttl);
		w64(&p, e->cmd.hold);
		w64(&p, e->cmd.arg);
	}
	w32(&p, m->blob_len);
	if (m->blob_len)
		memcpy(p, m->blob, m->blob_len);
	p += m->blob_len;
	return (int)(p - buf);
}

int wire_decode(struct repl_msg *m, const u8 *buf, u32 len)
{
	const u8 *p = buf;
	u32 need;
	u16 i;

	memset(m, 0, sizeof(*m));
	if (len < WIRE_HDR)
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
	need = WIRE_HDR + WIRE_BODY + (u32)m->n_ent * WIRE_ENTRY + 4;
	if (len < need)
		return -EMSGSIZE;
	m->nonce = r32(&p);
	m->from_inc = r64(&p);
	m->to_inc = r64(&p);
	m->term = r64(&p);
	m->index = r64(&p);
	m->log_term = r64(&p);
	m->commit = r64(&p);
	m->t_send = r64(&p);
	m->t_echo = r64(&p);
	for (i = 0; i < m->n_ent; i++) {
		struct repl_entry *e = &m->ent[i];

		e->term = r64(&p);
		e->cmd.op = r8(&p);
		e->cmd.mode = r8(&p);
		e->cmd.node = r16(&p);
		e->cmd.client = r32(&p);
		e->cmd.req = r32(&p);
		e->cmd.lock = r32(&p);
		e->cmd.ttl = r64(&p);
		e->cmd.hold = r64(&p);
		e->cmd.arg = r64(&p);
	}
	m->blob_len = r32(&p);
	if (m->blob_len > WIRE_BLOB_MAX || len - need != m->blob_len)
		return -EMSGSIZE;
	m->blob = m->blob_len ? p : NULL;
	return check(m);
}
