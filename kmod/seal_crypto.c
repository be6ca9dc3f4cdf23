// SPDX-License-Identifier: GPL-2.0
/*
 * The cryptography behind kmod/seal.c in the kernel: the ChaCha20-Poly1305
 * and BLAKE2s of lib/crypto, the library WireGuard uses, called directly (no
 * crypto API transform to allocate, nothing that can fail or sleep).
 *
 * BLAKE2s is built in whenever the kernel has a random number generator
 * (CONFIG_CRYPTO_LIB_BLAKE2S_GENERIC).  ChaCha20-Poly1305 is
 * CONFIG_CRYPTO_LIB_CHACHA20POLY1305, a module (libchacha20poly1305) in
 * Debian's 6.1 and 6.12, which dlock.ko then depends on (modprobe loads it;
 * a bare insmod needs it loaded first).  A kernel without it gets no ops:
 * dlock_seal_crypto() returns NULL and the cluster cannot be sealed.
 */
#include <linux/kconfig.h>
#include <linux/string.h>
#include <crypto/blake2s.h>
#include <crypto/chacha20poly1305.h>

#include "seal.h"

#if IS_ENABLED(CONFIG_CRYPTO_LIB_CHACHA20POLY1305)
static void dlock_seal_aead_seal(u8 *dst, const u8 *src, u32 len,
				 const u8 *ad, u32 ad_len, u64 nonce,
				 const u8 *key)
{
	chacha20poly1305_encrypt(dst, src, len, ad, ad_len, nonce, key);
}

static bool dlock_seal_aead_open(u8 *dst, const u8 *src, u32 len,
				 const u8 *ad, u32 ad_len, u64 nonce,
				 const u8 *key)
{
	return chacha20poly1305_decrypt(dst, src, len + SEAL_TAG, ad, ad_len,
					nonce, key);
}

static void dlock_seal_kdf(u8 *out, const u8 *key, const u8 *in, u32 len)
{
	blake2s(out, in, key, BLAKE2S_HASH_SIZE, len, SEAL_KEY_LEN);
}

static const struct seal_crypto_ops dlock_seal_ops = {
	.seal = dlock_seal_aead_seal,
	.open = dlock_seal_aead_open,
	.kdf = dlock_seal_kdf,
};

const struct seal_crypto_ops *dlock_seal_crypto(void)
{
	BUILD_BUG_ON(SEAL_KEY_LEN != CHACHA20POLY1305_KEY_SIZE);
	BUILD_BUG_ON(SEAL_TAG != CHACHA20POLY1305_AUTHTAG_SIZE);
	BUILD_BUG_ON(SEAL_KEY_LEN != BLAKE2S_HASH_SIZE);
	BUILD_BUG_ON(SEAL_KEY_LEN > BLAKE2S_KEY_SIZE);
	return &dlock_seal_ops;
}
#else
const struct seal_crypto_ops *dlock_seal_crypto(void)
{
	return NULL;
}
#endif
