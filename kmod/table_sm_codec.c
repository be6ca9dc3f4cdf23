// SPDX-License-Identifier: GPL-2.0
/*
 * The body of a replicated command (layout in table_sm.h).  Bodies come off
 * the network, so the decoder accepts exactly what the encoder makes: every
 * length is bounded before it is used, and a field the op does not read
 * must be zero, so that one command has one encoding and nodes cannot
 * disagree about what an odd body means.
 * Policy code: compat.h only.
 */
#include "table_sm.h"

/* Fields an op may set (bits), besides its name. */
#define F_MODE		0x001	/* mode, permits, wait_ms, acquire flags */
#define F_OWNER		0x002	/* owner string or tag */
#define F_UID		0x004	/* uid, privileged */
#define F_COOKIE	0x008
#define F_TOKEN		0x010
#define F_STAMP		0x020
#define F_VALUE		0x040
#define F_EFLAGS	0x080	/* EXPIRE flags, and tag as a client key */
#define F_NAME		0x100

static u32 op_fields(u8 op)
{
	switch (op) {
	case REPL_OP_ACQUIRE:
		return F_NAME | F_MODE | F_OWNER | F_UID | F_COOKIE;
	case REPL_OP_RELEASE:
	case REPL_OP_RENEW:
		return F_NAME | F_OWNER | F_UID;
	case REPL_OP_SET_VALUE:
		return F_NAME | F_OWNER | F_UID | F_VALUE;
	case REPL_OP_CANCEL:
		return F_NAME | F_COOKIE;
	case REPL_OP_BREAK:
		return F_NAME | F_UID | F_TOKEN;
	case REPL_OP_EXPIRE:
		return F_NAME | F_EFLAGS | F_COOKIE | F_TOKEN | F_STAMP;
	default:
		return 0;	/* NOOP, EPOCH, SESSION_END, CLIENT_END, BARRIER */
	}
}

static void put32(u8 *p, u32 v)
{
	p[0] = (u8)v;
	p[1] = (u8)(v >> 8);
	p[2] = (u8)(v >> 16);
	p[3] = (u8)(v >> 24);
}

static u32 get32(const u8 *p)
{
	return p[0] | (u32)p[1] << 8 | (u32)p[2] << 16 | (u32)p[3] << 24;
}

int tsm_encode(struct repl_cmd *cmd, u8 op, u16 node, u32 client, u32 req,
	       const struct tsm_body *b)
{
	u8 *d = cmd->data;
	u32 n;

	cmd->op = op;
	cmd->flags = 0;
	cmd->node = node;
	cmd->client = client;
	cmd->req = req;
	cmd->len = 0;
	if (!op_fields(op))
		return 0;
	if (!b || b->name_len > DL_NAME_MAX || b->owner_len > DL_OWNER_MAX ||
	    b->value_len > DL_VALUE_MAX)
		return -EINVAL;
	n = TSM_BODY_HDR + b->name_len + b->owner_len + b->value_len;
	memset(d, 0, TSM_BODY_HDR);
	d[0] = TSM_BODY_V1;
	d[1] = b->mode;
	d[2] = b->flags;
	d[3] = (u8)b->name_len;
	d[4] = (u8)b->owner_len;
	d[5] = b->privileged;
	d[6] = (u8)b->value_len;
	d[7] = (u8)(b->value_len >> 8);
	put32(d + 8, b->permits);
	put32(d + 12, b->wait_ms);
	put32(d + 16, b->uid);
	dl_put_le64(d + 24, b->tag);
	dl_put_le64(d + 32, b->cookie);
	dl_put_le64(d + 40, b->token);
	dl_put_le64(d + 48, b->stamp);
	if (b->name_len)
		memcpy(d + TSM_BODY_HDR, b->name, b->name_len);
	if (b->owner_len)
		memcpy(d + TSM_BODY_HDR + b->name_len, b->owner, b->owner_len);
	if (b->value_len)
		memcpy(d + TSM_BODY_HDR + b->name_len + b->owner_len, b->value,
		       b->value_len);
	cmd->len = (u16)n;
	return 0;
}

/* Every field the op does not read is zero. */
static bool unused_zero(const struct tsm_body *b, u32 f)
{
	if (!(f & F_MODE) && (b->mode || b->permits || b->wait_ms))
		return false;
	if (!(f & (F_MODE | F_EFLAGS)) && b->flags)
		return false;
	if (!(f & (F_OWNER | F_EFLAGS)) && b->tag)
		return false;
	if (!(f & F_OWNER) && b->owner_len)
		return false;
	if (!(f & F_UID) && (b->uid || b->privileged))
		return false;
	if ((!(f & F_COOKIE) && b->cookie) || (!(f & F_TOKEN) && b->token) ||
	    (!(f & F_STAMP) && b->stamp) || (!(f & F_VALUE) && b->value_len))
		return false;
	return true;
}

int tsm_decode(const struct repl_cmd *cmd, struct tsm_body *b)
{
	const u8 *d = cmd->data;
	u32 f = op_fields(cmd->op);

	memset(b, 0, sizeof(*b));
	if (!f)
		return cmd->len ? -EINVAL : 0;
	if (cmd->len < TSM_BODY_HDR || cmd->len > REPL_DATA_MAX ||
	    d[0] != TSM_BODY_V1 || d[5] > 1 || get32(d + 20))
		return -EINVAL;
	b->mode = d[1];
	b->flags = d[2];
	b->name_len = d[3];
	b->owner_len = d[4];
	b->privileged = d[5];
	b->value_len = d[6] | (u32)d[7] << 8;
	b->permits = get32(d + 8);
	b->wait_ms = get32(d + 12);
	b->uid = get32(d + 16);
	b->tag = dl_get_le64(d + 24);
	b->cookie = dl_get_le64(d + 32);
	b->token = dl_get_le64(d + 40);
	b->stamp = dl_get_le64(d + 48);
	if (!b->name_len || b->owner_len > DL_OWNER_MAX ||
	    b->value_len > DL_VALUE_MAX ||
	    cmd->len != TSM_BODY_HDR + b->name_len + b->owner_len +
			b->value_len)
		return -EINVAL;
	if (!unused_zero(b, f))
		return -EINVAL;
	if ((f & F_EFLAGS) && (b->flags & ~TSM_EXPIRE_WAIT))
		return -EINVAL;
	if ((f & F_MODE) && (b->flags & ~DL_ACQ_FLAGS))
		return -EINVAL;
	/* A detached owner is a string, a socket-bound one a tag: not both. */
	if (b->owner_len && b->tag)
		return -EINVAL;
	b->name = (const char *)d + TSM_BODY_HDR;
	b->owner = b->owner_len ? b->name + b->name_len : NULL;
	b->value = b->value_len ? d + TSM_BODY_HDR + b->name_len + b->owner_len :
		   NULL;
	return 0;
}
