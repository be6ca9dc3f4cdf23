/* SPDX-License-Identifier: GPL-2.0 */
/*
 * dlock peer wire codec: struct repl_msg <-> bytes.
 *
 * Version 1 layout, every field fixed width little-endian:
 *   header  40 bytes  magic u16 "DL", version u8, type u8, flags u8, pad u8,
 *                     from u16, to u16, n_ent u16, nonce u32,
 *                     from_inc u64, to_inc u64, term u64
 *   body    40 bytes  index u64, log_term u64, commit u64, t_send u64,
 *                     t_echo u64
 *   entries n_ent * 48 bytes  term u64, op u8, mode u8, node u16, client u32,
 *                     req u32, lock u32, ttl u64, hold u64, arg u64
 *   blob    u32 length, then the bytes (SNAP only; 0 otherwise)
 * The length of a datagram must be exactly what its header announces.
 */
#ifndef DLOCK_WIRE_H
#define DLOCK_WIRE_H

#include "compat.h"
#include "repl.h"

#define WIRE_MAGIC	0x4c44	/* "DL" */
#define WIRE_VERSION	1
#define WIRE_HDR	40
#define WIRE_BODY	40
#define WIRE_ENTRY	48
#define WIRE_BLOB_MAX	32768
#define WIRE_MAX	(WIRE_HDR + WIRE_BODY + REPL_MAX_BATCH * WIRE_ENTRY + \
			 4 + WIRE_BLOB_MAX)

/* Bytes m needs on the wire. */
u32 wire_size(const struct repl_msg *m);
/* Returns the bytes written, -EINVAL for a message that may not be sent,
 * -ENOSPC when cap is too small. */
int wire_encode(const struct repl_msg *m, u8 *buf, u32 cap);
/*
 * Returns 0, or -EMSGSIZE (length does not match), -EPROTO (not a dlock
 * message or another version), -EINVAL (a field out of range).  On success
 * m->blob points into buf.  Never reads outside buf[0..len).
 */
int wire_decode(struct repl_msg *m, const u8 *buf, u32 len);

#endif /* DLOCK_WIRE_H */
