/* SPDX-License-Identifier: GPL-2.0 */
/*
 * dlock peer wire codec: struct repl_msg <-> bytes, one message per UDP
 * datagram.
 *
 * Version 2 layout, every field fixed width little-endian:
 *   header  40 bytes  magic u16 "DL", version u8, type u8, flags u8, pad u8,
 *                     from u16, to u16, n_ent u16, nonce u32,
 *                     from_inc u64, to_inc u64, term u64
 *   body    56 bytes  index u64, log_term u64, commit u64, t_send u64,
 *                     t_echo u64, snap_len u64, snap_off u64
 *   entries n_ent times: 48 bytes  term u64, op u8, flags u8, node u16,
 *                     client u32, req u32, len u16, pad u16, ttl u64,
 *                     hold u64, arg u64
 *                     then len bytes of data (len <= REPL_DATA_MAX)
 *   chunk   u32 length, then the bytes (SNAP only; 0 otherwise)
 * A datagram is at most WIRE_MAX bytes and exactly as long as its fields
 * say.  A SNAP chunk lies inside its snapshot: snap_off + length <= snap_len.
 */
#ifndef DLOCK_WIRE_H
#define DLOCK_WIRE_H

#include "compat.h"
#include "repl.h"

#define WIRE_MAGIC	0x4c44	/* "DL" */
#define WIRE_VERSION	2
#define WIRE_HDR	40
#define WIRE_BODY	56
#define WIRE_ENTRY	48	/* without its data */
#define WIRE_MAX	65000	/* one UDP datagram, IPv4 or IPv6 */
/* the most snapshot bytes one SNAP carries */
#define WIRE_CHUNK_MAX	(WIRE_MAX - WIRE_HDR - WIRE_BODY - 4)

/* a batch of the largest entries still fits a datagram */
#if WIRE_HDR + WIRE_BODY + REPL_MAX_BATCH * (WIRE_ENTRY + REPL_DATA_MAX) + 4 > \
	WIRE_MAX
#error "REPL_MAX_BATCH entries of REPL_DATA_MAX bytes exceed WIRE_MAX"
#endif

static inline u32 wire_entry_size(const struct repl_entry *e)
{
	return WIRE_ENTRY + e->cmd.len;
}

/* Bytes m needs on the wire. */
u32 wire_size(const struct repl_msg *m);
/*
 * Returns the bytes written, -EINVAL for a message that may not be sent
 * (a field out of range, or more than WIRE_MAX bytes), -ENOSPC when cap is
 * too small.
 */
int wire_encode(const struct repl_msg *m, u8 *buf, u32 cap);
/*
 * Returns 0, or -EMSGSIZE (length does not match its fields, or above
 * WIRE_MAX), -EPROTO (not a dlock message or another version), -EINVAL (a
 * field out of range).  On success m->blob points into buf.  Never reads
 * outside buf[0..len).  m is large (REPL_MAX_BATCH full entries): pass a
 * heap one.
 */
int wire_decode(struct repl_msg *m, const u8 *buf, u32 len);

#endif /* DLOCK_WIRE_H */
