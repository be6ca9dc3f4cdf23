/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The host's stand-in for kmod/seal_crypto.c: ChaCha20-Poly1305 and keyed
 * BLAKE2s from OpenSSL 3, for tests/host/test_seal.c and the fuzzer.
 */
#ifndef DLOCK_SEAL_HOST_H
#define DLOCK_SEAL_HOST_H

#include "seal.h"

extern const struct seal_crypto_ops seal_host_ops;

/* RFC 8439's form, a 96-bit nonce: 0 on success, -1 on a bad tag */
int seal_host_aead(int enc, u8 *dst, const u8 *src, u32 len, const u8 *ad,
		   u32 ad_len, const u8 nonce[12], const u8 key[32]);

#endif /* DLOCK_SEAL_HOST_H */
