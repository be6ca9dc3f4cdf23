/* SPDX-License-Identifier: GPL-2.0 */
/*
 * dlockctl's output of byte strings that other users choose (lock names,
 * owners, values, command names): escaped so that they can neither drive
 * the terminal nor fake a line or a field, and JSON that is valid UTF-8
 * whatever the bytes.  dlockctl(8) documents both encodings.
 */
#ifndef DLOCKCTL_OUTPUT_H
#define DLOCKCTL_OUTPUT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "dlock.h"

/*
 * Text: printable ASCII stays, a backslash becomes "\\", every other byte
 * "\xHH".  A word (name, owner, command name) escapes space too, so that
 * a line splits into fields on spaces; a value, the rest of its line,
 * keeps spaces.
 */
#define OUT_WORD	true
#define OUT_LINE	false
void out_text(FILE *f, const void *s, size_t len, bool word);

/* Is @s strict UTF-8 (no overlong form, surrogate or code point > 10FFFF)? */
bool out_utf8_valid(const void *s, size_t len);

/*
 * A JSON string literal of @s: UTF-8 is kept, '"', '\' and the control
 * characters U+0000-U+001F and U+007F-U+009F are escaped, and each byte
 * that is not part of valid UTF-8 becomes U+FFFD.
 */
void out_json_str(FILE *f, const void *s, size_t len);

/*
 * The member "key":"..." (after a comma when @comma), and when @s is not
 * valid UTF-8 also "key_hex":"..." with its exact bytes in lowercase hex.
 */
void out_json_member(FILE *f, bool comma, const char *key, const void *s,
		     size_t len);

/* "key":"N": 64-bit identifiers are strings, exact in any JSON parser. */
void out_json_u64(FILE *f, bool comma, const char *key, uint64_t v);

/*
 * A lock (get, list) or an event (watch) on stdout, as text or JSON; watch
 * marks lost events with an "overflow" line.  The caller flushes.
 */
void out_lock(const struct dlock_lock_info *li, bool json);
void out_event(const struct dlock_event *ev, bool json);
void out_overflow(bool json);

#endif /* DLOCKCTL_OUTPUT_H */
