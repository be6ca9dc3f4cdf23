// SPDX-License-Identifier: GPL-2.0
/*
 * libFuzzer target for the peer wire decoder: any input must either be
 * rejected with an error or decode to a message that re-encodes to exactly
 * the same bytes.  ASan/UBSan catch any read outside the input.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "../../kmod/wire.h"

static uint8_t out[WIRE_MAX];
static struct repl_msg m, m2;	/* too big for a kernel stack: static */

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint8_t *copy;
	int n, err;

	if (size > WIRE_MAX + 16)
		return 0;
	/* exact-size heap copy so ASan sees any read past the end */
	copy = malloc(size ? size : 1);
	memcpy(copy, data, size);
	err = wire_decode(&m, copy, (u32)size);
	if (err == 0) {
		n = wire_encode(&m, out, sizeof(out));
		if (n != (int)size || memcmp(out, copy, size))
			abort();
		if (wire_decode(&m2, out, (u32)n))
			abort();
	} else if (err != -EMSGSIZE && err != -EPROTO && err != -EINVAL) {
		abort();
	}
	free(copy);
	return 0;
}
