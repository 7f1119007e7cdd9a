/* SPDX-License-Identifier: GPL-2.0 */
/*
 * A strict JSON checker for what clients send. json-c is lenient where the
 * interface promises strictness: it takes NaN, Infinity, single quotes, raw
 * control bytes, invalid UTF-8 and out-of-range numbers, and its object API
 * keeps only the last of duplicate keys and cuts keys at an embedded NUL, so
 * the daemon could act on another call than the one other parsers see. Every
 * request passes this check before json-c reads it.
 */
#ifndef SCX_AI_NUMA_JSON_STRICT_H
#define SCX_AI_NUMA_JSON_STRICT_H

#include <stddef.h>

/*
 * Check that @len bytes of @msg are exactly one RFC 8259 value, optionally
 * surrounded by whitespace, and that:
 * - strings are valid UTF-8 (no overlong forms, surrogates or code points
 *   above U+10FFFF), hold no raw control bytes, and their \u escapes pair
 *   surrogates and never encode U+0000;
 * - no object repeats a key (compared after unescaping);
 * - integers fit in int64 or uint64, and other numbers in a double;
 * - nesting is at most @max_depth arrays and objects.
 * Returns 0, or -EINVAL with the byte offset and reason in @err, or -ENOMEM.
 */
int json_strict_check(const char *msg, size_t len, unsigned int max_depth, char *err, size_t errlen);

#endif
