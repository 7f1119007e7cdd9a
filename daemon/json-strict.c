// SPDX-License-Identifier: GPL-2.0
/*
 * Recursive descent over the raw bytes; recursion is bounded by max_depth.
 * Object keys are unescaped into one buffer used as a stack, so that an
 * object's keys can be sorted and compared when it closes, whatever nests
 * inside it, in O(n log n) for n keys.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "json-strict.h"

struct key {
	size_t off, len;	/* unescaped bytes in scan.keys */
	size_t at;		/* where the key starts in the message */
};

struct scan {
	const unsigned char *p;
	size_t len, pos;
	unsigned int max_depth;
	char *err;
	size_t errlen;
	char *keys;		/* unescaped keys of the open objects */
	size_t keys_len;
	struct key *kv;
	size_t nkv, kv_cap;
	bool nomem;
};

__attribute__((format(printf, 3, 4)))
static int fail(struct scan *s, size_t at, const char *fmt, ...)
{
	char why[160];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(why, sizeof(why), fmt, ap);
	va_end(ap);
	snprintf(s->err, s->errlen, "malformed JSON at byte %zu: %s", at, why);
	return -EINVAL;
}

static void skip_ws(struct scan *s)
{
	while (s->pos < s->len && s->p[s->pos] && strchr(" \t\r\n", s->p[s->pos]))
		s->pos++;
}

static int peek(const struct scan *s)
{
	return s->pos < s->len ? s->p[s->pos] : -1;
}

static int hex4(struct scan *s, unsigned int *out)
{
	unsigned int v = 0;

	if (s->len - s->pos < 4)
		return fail(s, s->pos, "\\u needs four hex digits");
	for (int i = 0; i < 4; i++) {
		unsigned char c = s->p[s->pos + i];

		v <<= 4;
		if (c >= '0' && c <= '9')
			v |= c - '0';
		else if (c >= 'a' && c <= 'f')
			v |= c - 'a' + 10;
		else if (c >= 'A' && c <= 'F')
			v |= c - 'A' + 10;
		else
			return fail(s, s->pos + i, "\\u needs four hex digits");
	}
	s->pos += 4;
	*out = v;
	return 0;
}

/* One \u escape (the backslash and 'u' consumed), a surrogate pair taken whole. */
static int unicode_escape(struct scan *s, unsigned int *cp)
{
	size_t at = s->pos - 2;
	unsigned int lo;
	int ret = hex4(s, cp);

	if (ret < 0)
		return ret;
	if (*cp >= 0xdc00 && *cp <= 0xdfff)
		return fail(s, at, "lone low surrogate \\u%04x", *cp);
	if (*cp >= 0xd800 && *cp <= 0xdbff) {
		if (s->len - s->pos < 2 || s->p[s->pos] != '\\' || s->p[s->pos + 1] != 'u')
			return fail(s, at, "high surrogate \\u%04x without its low half", *cp);
		s->pos += 2;
		ret = hex4(s, &lo);
		if (ret < 0)
			return ret;
		if (lo < 0xdc00 || lo > 0xdfff)
			return fail(s, at, "high surrogate \\u%04x without its low half", *cp);
		*cp = 0x10000 + ((*cp - 0xd800) << 10) + (lo - 0xdc00);
	}
	if (!*cp)
		return fail(s, at, "\\u0000 in a string: strings must be without NUL");
	return 0;
}

/* Length of the valid UTF-8 sequence at @q (at most @n bytes), 0 if invalid. */
static size_t utf8_seq(const unsigned char *q, size_t n)
{
	unsigned char c = q[0], lo = 0x80, hi = 0xbf;
	size_t need;

	if (c < 0x80)
		return 1;
	if (c >= 0xc2 && c <= 0xdf)
		need = 1;
	else if (c >= 0xe0 && c <= 0xef)
		need = 2;
	else if (c >= 0xf0 && c <= 0xf4)
		need = 3;
	else
		return 0;	/* continuation byte, overlong lead (c0, c1) or beyond U+10FFFF */
	/* The second byte's range rules out overlong forms, surrogates and > U+10FFFF. */
	if (c == 0xe0)
		lo = 0xa0;
	else if (c == 0xed)
		hi = 0x9f;
	else if (c == 0xf0)
		lo = 0x90;
	else if (c == 0xf4)
		hi = 0x8f;
	if (n < need + 1 || q[1] < lo || q[1] > hi)
		return 0;
	for (size_t i = 2; i <= need; i++)
		if ((q[i] & 0xc0) != 0x80)
			return 0;
	return need + 1;
}

static void key_put(struct scan *s, const void *b, size_t n)
{
	/* Unescaped text is never longer than the message, which bounds the buffer. */
	memcpy(s->keys + s->keys_len, b, n);
	s->keys_len += n;
}

static void key_put_cp(struct scan *s, unsigned int cp)
{
	unsigned char u[4];
	size_t n;

	if (cp < 0x80) {
		u[0] = (unsigned char)cp;
		n = 1;
	} else if (cp < 0x800) {
		u[0] = 0xc0 | (cp >> 6);
		u[1] = 0x80 | (cp & 0x3f);
		n = 2;
	} else if (cp < 0x10000) {
		u[0] = 0xe0 | (cp >> 12);
		u[1] = 0x80 | ((cp >> 6) & 0x3f);
		u[2] = 0x80 | (cp & 0x3f);
		n = 3;
	} else {
		u[0] = 0xf0 | (cp >> 18);
		u[1] = 0x80 | ((cp >> 12) & 0x3f);
		u[2] = 0x80 | ((cp >> 6) & 0x3f);
		u[3] = 0x80 | (cp & 0x3f);
		n = 4;
	}
	key_put(s, u, n);
}

/* A string at s->pos (on its quote); a key's unescaped bytes go to the key stack. */
static int string(struct scan *s, bool is_key)
{
	size_t start = s->pos++;

	while (s->pos < s->len) {
		unsigned char c = s->p[s->pos];
		size_t n;

		if (c == '"') {
			s->pos++;
			return 0;
		}
		if (c == '\\') {
			static const char esc[] = "\"\\/bfnrt", val[] = "\"\\/\b\f\n\r\t";
			const char *e;
			unsigned int cp;
			int ret;

			if (s->pos + 1 >= s->len)
				break;
			c = s->p[s->pos + 1];
			if (c == 'u') {
				s->pos += 2;
				ret = unicode_escape(s, &cp);
				if (ret < 0)
					return ret;
				if (is_key)
					key_put_cp(s, cp);
				continue;
			}
			e = c ? strchr(esc, c) : NULL;
			if (!e)
				return fail(s, s->pos, "invalid escape in a string");
			if (is_key)
				key_put(s, &val[e - esc], 1);
			s->pos += 2;
			continue;
		}
		if (c < 0x20)
			return fail(s, s->pos, "control byte 0x%02x in a string (escape it)", c);
		n = utf8_seq(s->p + s->pos, s->len - s->pos);
		if (!n)
			return fail(s, s->pos, "invalid UTF-8 in a string");
		if (is_key)
			key_put(s, s->p + s->pos, n);
		s->pos += n;
	}
	return fail(s, start, "string not terminated");
}

static bool digit(int c)
{
	return c >= '0' && c <= '9';
}

static size_t digits(struct scan *s)
{
	size_t n = 0;

	while (digit(peek(s))) {
		s->pos++;
		n++;
	}
	return n;
}

/* RFC 8259 number syntax, then its range: json-c would saturate or make infinity. */
static int number(struct scan *s)
{
	size_t start = s->pos, n;
	bool integer = true;
	char *copy, *end;
	int ret = 0;

	if (peek(s) == '-')
		s->pos++;
	if (peek(s) == '0') {
		s->pos++;
		if (digit(peek(s)))
			return fail(s, start, "number with a leading zero");
	} else if (!digits(s)) {
		return fail(s, start, "invalid number");
	}
	if (peek(s) == '.') {
		s->pos++;
		integer = false;
		if (!digits(s))
			return fail(s, start, "invalid number: digits must follow '.'");
	}
	if (peek(s) == 'e' || peek(s) == 'E') {
		s->pos++;
		integer = false;
		if (peek(s) == '+' || peek(s) == '-')
			s->pos++;
		if (!digits(s))
			return fail(s, start, "invalid number: digits must follow the exponent");
	}
	n = s->pos - start;
	/*
	 * Not strndup(): the message need not be NUL-terminated, and a
	 * sanitizer's strndup checks the bytes up to a NUL, past the number
	 * (a reply ending in one, at the end of its buffer, read past it).
	 */
	copy = malloc(n + 1);
	if (!copy) {
		s->nomem = true;
		return -ENOMEM;
	}
	memcpy(copy, (const char *)s->p + start, n);
	copy[n] = '\0';
	errno = 0;
	if (!integer) {
		double d = strtod(copy, &end);

		/* Underflow is a value (zero or subnormal); overflow is infinity. */
		if (errno == ERANGE && (d > 1.0 || d < -1.0))
			ret = fail(s, start, "number %.40s%s out of range", copy, n > 40 ? "..." : "");
	} else if (copy[0] == '-') {
		strtoll(copy, &end, 10);
		if (errno == ERANGE)
			ret = fail(s, start, "integer %.40s%s out of range (int64)", copy, n > 40 ? "..." : "");
	} else {
		strtoull(copy, &end, 10);
		if (errno == ERANGE)
			ret = fail(s, start, "integer %.40s%s out of range (uint64)", copy, n > 40 ? "..." : "");
	}
	free(copy);
	return ret;
}

/* Not the start of any value: NaN, Infinity, 'single quotes', ... */
static int unexpected(struct scan *s)
{
	unsigned char c = s->p[s->pos];

	if (c >= 0x20 && c < 0x7f)
		return fail(s, s->pos, "unexpected '%c'", c);
	return fail(s, s->pos, "unexpected byte 0x%02x", c);
}

static int literal(struct scan *s, const char *word)
{
	size_t n = strlen(word);

	if (s->len - s->pos < n || memcmp(s->p + s->pos, word, n))
		return unexpected(s);
	s->pos += n;
	return 0;
}

static int value(struct scan *s, unsigned int depth);

static int cmp_key(const void *a, const void *b, void *keys)
{
	const struct key *x = a, *y = b;
	int c = memcmp((char *)keys + x->off, (char *)keys + y->off, x->len < y->len ? x->len : y->len);

	if (c)
		return c;
	return x->len < y->len ? -1 : x->len > y->len;
}

/* Keys from index @first on belong to the object just closed. */
static int unique_keys(struct scan *s, size_t first)
{
	struct key *k = s->kv + first;
	size_t n = s->nkv - first;

	qsort_r(k, n, sizeof(*k), cmp_key, s->keys);
	for (size_t i = 1; i < n; i++) {
		if (!cmp_key(&k[i - 1], &k[i], s->keys)) {
			const struct key *dup = k[i - 1].at > k[i].at ? &k[i - 1] : &k[i];
			char shown[48];
			size_t m = 0;

			for (size_t j = 0; j < dup->len && m < sizeof(shown) - 4; j++) {
				unsigned char c = (unsigned char)s->keys[dup->off + j];

				shown[m++] = c < 0x20 || c == 0x7f ? '?' : (char)c;
			}
			if (m < dup->len)
				shown[m++] = '.', shown[m++] = '.', shown[m++] = '.';
			shown[m] = '\0';
			return fail(s, dup->at, "duplicate key \"%s\"", shown);
		}
	}
	return 0;
}

/* On an opening bracket: steps past it, and past @close too if nothing is inside. */
static bool open_empty(struct scan *s, char close)
{
	s->pos++;
	skip_ws(s);
	if (peek(s) != close)
		return false;
	s->pos++;
	return true;
}

/* After a member or an element: 1 past a ',' (another follows), 0 past @close, or the error. */
static int next_or_close(struct scan *s, char close, const char *in)
{
	skip_ws(s);
	if (peek(s) == ',') {
		s->pos++;
		return 1;
	}
	if (peek(s) != close)
		return fail(s, s->pos, "expected ',' or '%c' in %s", close, in);
	s->pos++;
	return 0;
}

static int object(struct scan *s, unsigned int depth)
{
	size_t first = s->nkv, keys_mark = s->keys_len;
	int ret;

	if (open_empty(s, '}'))
		return 0;
	do {
		struct key *k;

		skip_ws(s);
		if (peek(s) != '"')
			return fail(s, s->pos, "expected a key in double quotes");
		if (s->nkv == s->kv_cap) {
			size_t cap = s->kv_cap ? 2 * s->kv_cap : 16;
			struct key *nkv = realloc(s->kv, cap * sizeof(*nkv));

			if (!nkv) {
				s->nomem = true;
				return -ENOMEM;
			}
			s->kv = nkv;
			s->kv_cap = cap;
		}
		k = &s->kv[s->nkv];
		k->at = s->pos;
		k->off = s->keys_len;
		ret = string(s, true);
		if (ret < 0)
			return ret;
		/* string() leaves s->kv alone: k still points into it. */
		k->len = s->keys_len - k->off;
		s->nkv++;
		skip_ws(s);
		if (peek(s) != ':')
			return fail(s, s->pos, "expected ':' after a key");
		s->pos++;
		ret = value(s, depth);
		if (ret < 0)
			return ret;
		ret = next_or_close(s, '}', "an object");
		if (ret < 0)
			return ret;
	} while (ret);
	ret = unique_keys(s, first);
	s->nkv = first;
	s->keys_len = keys_mark;
	return ret;
}

static int array(struct scan *s, unsigned int depth)
{
	int ret;

	if (open_empty(s, ']'))
		return 0;
	do {
		ret = value(s, depth);
		if (ret < 0)
			return ret;
		ret = next_or_close(s, ']', "an array");
	} while (ret > 0);
	return ret;
}

static int value(struct scan *s, unsigned int depth)
{
	int c;

	skip_ws(s);
	c = peek(s);
	switch (c) {
	case -1:
		return fail(s, s->pos, "message ends where a value should be");
	case '{':
	case '[':
		if (depth >= s->max_depth)
			return fail(s, s->pos, "nesting too deep (more than %u levels)", s->max_depth);
		return c == '{' ? object(s, depth + 1) : array(s, depth + 1);
	case '"':
		return string(s, false);
	case 't':
		return literal(s, "true");
	case 'f':
		return literal(s, "false");
	case 'n':
		return literal(s, "null");
	default:
		if (c == '-' || digit(c))
			return number(s);
		return unexpected(s);
	}
}

int json_strict_check(const char *msg, size_t len, unsigned int max_depth, char *err, size_t errlen)
{
	struct scan s = {
		.p = (const unsigned char *)msg, .len = len,
		.max_depth = max_depth, .err = err, .errlen = errlen,
	};
	int ret;

	s.keys = malloc(len + 1);
	if (!s.keys) {
		snprintf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	ret = value(&s, 0);
	if (!ret) {
		skip_ws(&s);
		if (s.pos < len)
			ret = fail(&s, s.pos, "data after the value");
	}
	if (s.nomem)
		snprintf(err, errlen, "out of memory");
	free(s.keys);
	free(s.kv);
	return ret;
}
