// SPDX-License-Identifier: GPL-2.0
/*
 * OpenSSL behind struct seal_crypto_ops (seal_host.h).  The nonce of the
 * kernel's library (a u64) is the RFC 8439 nonce 0^32 || le64(n).
 */
#include <stdio.h>
#include <stdlib.h>
#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/params.h>

#include "seal_host.h"

static void die(const char *what)
{
	fprintf(stderr, "seal_host: %s failed\n", what);
	abort();
}

int seal_host_aead(int enc, u8 *dst, const u8 *src, u32 len, const u8 *ad,
		   u32 ad_len, const u8 nonce[12], const u8 key[32])
{
	EVP_CIPHER_CTX *x = EVP_CIPHER_CTX_new();
	int n, ok = 1;

	if (!x || !EVP_CipherInit_ex(x, EVP_chacha20_poly1305(), NULL, NULL,
				     NULL, enc) ||
	    !EVP_CIPHER_CTX_ctrl(x, EVP_CTRL_AEAD_SET_IVLEN, 12, NULL) ||
	    !EVP_CipherInit_ex(x, NULL, NULL, key, nonce, enc))
		die("cipher init");
	if (ad_len && !EVP_CipherUpdate(x, NULL, &n, ad, (int)ad_len))
		die("AD");
	if (!enc && !EVP_CIPHER_CTX_ctrl(x, EVP_CTRL_AEAD_SET_TAG, 16,
					 (void *)(src + len)))
		die("set tag");
	if (len && !EVP_CipherUpdate(x, dst, &n, src, (int)len))
		die("update");
	if (!EVP_CipherFinal_ex(x, dst + len, &n))
		ok = 0;
	if (enc && !EVP_CIPHER_CTX_ctrl(x, EVP_CTRL_AEAD_GET_TAG, 16,
					dst + len))
		die("get tag");
	EVP_CIPHER_CTX_free(x);
	if (!ok) {
		/* the kernel writes nothing then; leave nothing usable here */
		memset(dst, 0, len);
		return -1;
	}
	return 0;
}

static void nonce96(u8 out[12], u64 n)
{
	memset(out, 0, 4);
	dl_put_le64(out + 4, n);
}

static void host_seal(u8 *dst, const u8 *src, u32 len, const u8 *ad,
		      u32 ad_len, u64 nonce, const u8 *key)
{
	u8 iv[12];

	nonce96(iv, nonce);
	seal_host_aead(1, dst, src, len, ad, ad_len, iv, key);
}

static bool host_open(u8 *dst, const u8 *src, u32 len, const u8 *ad,
		      u32 ad_len, u64 nonce, const u8 *key)
{
	u8 iv[12];

	nonce96(iv, nonce);
	return seal_host_aead(0, dst, src, len, ad, ad_len, iv, key) == 0;
}

static void host_kdf(u8 *out, const u8 *key, const u8 *in, u32 len)
{
	static EVP_MAC *mac;
	EVP_MAC_CTX *x;
	size_t n;
	OSSL_PARAM p[] = {
		OSSL_PARAM_construct_size_t(OSSL_MAC_PARAM_SIZE, &(size_t){ 32 }),
		OSSL_PARAM_construct_end(),
	};

	if (!mac)
		mac = EVP_MAC_fetch(NULL, "BLAKE2SMAC", NULL);
	x = mac ? EVP_MAC_CTX_new(mac) : NULL;
	if (!x || !EVP_MAC_init(x, key, 32, p) ||
	    !EVP_MAC_update(x, in, len) || !EVP_MAC_final(x, out, &n, 32) ||
	    n != 32)
		die("BLAKE2s MAC");
	EVP_MAC_CTX_free(x);
}

const struct seal_crypto_ops seal_host_ops = {
	.seal = host_seal,
	.open = host_open,
	.kdf = host_kdf,
};
