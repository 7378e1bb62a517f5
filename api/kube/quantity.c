// SPDX-License-Identifier: Apache-2.0
// quantity.c: exact integer arithmetic for Kubernetes quantities, no floats.
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "quantity.h"

// 20 significant digits hold any 64-bit value and stay below 2^67, so
// mantissa * 2^60 fits in 128 bits.
#define QUANTITY_MAX_DIGITS 20
#define QUANTITY_MAX_EXP 1000

typedef unsigned __int128 u128;

// The value is mantissa * 2^shift * 10^exp10.
typedef struct quantity_num {
	u128 mantissa;
	int  digits;
	int  shift;
	int  exp10;
} quantity_num;

static const struct {
	const char *suffix;
	int         shift;
	int         exp10;
} quantity_suffixes[] = {
	{ "", 0, 0 },
	{ "Ki", 10, 0 },
	{ "Mi", 20, 0 },
	{ "Gi", 30, 0 },
	{ "Ti", 40, 0 },
	{ "Pi", 50, 0 },
	{ "Ei", 60, 0 },
	{ "n", 0, -9 },
	{ "u", 0, -6 },
	{ "m", 0, -3 },
	{ "k", 0, 3 },
	{ "M", 0, 6 },
	{ "G", 0, 9 },
	{ "T", 0, 12 },
	{ "P", 0, 15 },
	{ "E", 0, 18 },
};

static int
bad(pa_err *err, const char *s, const char *why)
{
	return pa_err_set(
	    err, PA_INVALID_ARGUMENT, "invalid quantity \"%s\": %s", s, why);
}

// add_digit appends one decimal digit; leading zeros cost nothing.
static int
add_digit(quantity_num *q, char c)
{
	if (q->mantissa == 0 && c == '0')
		return 0;
	if (++q->digits > QUANTITY_MAX_DIGITS)
		return -1;
	q->mantissa = q->mantissa * 10 + (u128) (c - '0');
	return 0;
}

// parse_number reads digits and a fraction; a fraction's trailing zeros
// are dropped so "1.500000000000000000000Gi" still fits.
static const char *
parse_number(
    quantity_num *q, const char *p, const char *s, pa_err *err, int *rc)
{
	const char *start = p, *frac_end;

	for (; *p >= '0' && *p <= '9'; p++)
		if (add_digit(q, *p) != 0)
			goto too_many;
	if (*p == '.') {
		frac_end = ++p;
		for (const char *f = p; *f >= '0' && *f <= '9'; f++)
			if (*f != '0')
				frac_end = f + 1;
		for (; p < frac_end; p++, q->exp10--)
			if (add_digit(q, *p) != 0)
				goto too_many;
		p += strspn(p, "0");
	}
	if (p == start || (p == start + 1 && *start == '.'))
		*rc = bad(err, s, "expected a number");
	return p;
too_many:
	*rc = bad(err, s, "too many digits");
	return p;
}

static bool
parse_exponent(quantity_num *q, const char *p)
{
	int sign = 1, e = 0;

	if (*p != 'e' && *p != 'E')
		return false;
	p++;
	if (*p == '+' || *p == '-')
		sign = *p++ == '-' ? -1 : 1;
	if (*p < '0' || *p > '9')
		return false;
	for (; *p >= '0' && *p <= '9'; p++)
		if ((e = e * 10 + (*p - '0')) > QUANTITY_MAX_EXP)
			return false;
	if (*p != '\0')
		return false;
	q->exp10 += sign * e;
	return true;
}

static bool
parse_suffix(quantity_num *q, const char *p)
{
	size_t n = sizeof(quantity_suffixes) / sizeof(quantity_suffixes[0]);

	for (size_t i = 0; i < n; i++) {
		if (strcmp(p, quantity_suffixes[i].suffix) == 0) {
			q->shift += quantity_suffixes[i].shift;
			q->exp10 += quantity_suffixes[i].exp10;
			return true;
		}
	}
	return parse_exponent(q, p); // "1E" is exa, "1E3" an exponent
}

// to_bytes works out mantissa * 2^shift * 10^exp10, rounding up.
static int
to_bytes(uint64_t *out, const quantity_num *q)
{
	u128 v = q->mantissa << q->shift;

	if (q->exp10 < 0) {
		u128 d = 1;

		if (-q->exp10 > 38) { // v < 2^127 < 10^39: under one byte
			*out = v != 0;
			return 0;
		}
		for (int i = 0; i < -q->exp10; i++)
			d *= 10;
		v = v / d + (v % d != 0);
	}
	for (int i = 0; i < q->exp10 && v != 0; i++)
		if ((v *= 10) > UINT64_MAX)
			return -1;
	if (v > UINT64_MAX)
		return -1;
	*out = (uint64_t) v;
	return 0;
}

int
quantity_parse(uint64_t *out, const char *s, pa_err *err)
{
	quantity_num q  = { 0 };
	const char  *p  = s;
	uint64_t     v  = 0;
	int          rc = PA_OK;

	if (s == NULL || *s == '\0')
		return pa_err_set(
		    err, PA_INVALID_ARGUMENT, "invalid quantity \"\": empty");
	if (*p == '-')
		return bad(err, s, "must not be negative");
	p += *p == '+';
	p = parse_number(&q, p, s, err, &rc);
	if (rc != PA_OK)
		return rc;
	if (!parse_suffix(&q, p))
		return bad(err, s,
		    "unknown suffix (use Ki, Mi, Gi, Ti, Pi, Ei, k, M, G, T, "
		    "P, "
		    "E or an exponent such as e9)");
	if (to_bytes(&v, &q) != 0)
		return bad(err, s, "more than 18446744073709551615 bytes");
	*out = v;
	return PA_OK;
}

char *
quantity_format(char *buf, size_t size, uint64_t bytes)
{
	static const char *const units[] = { "Ei", "Pi", "Ti", "Gi", "Mi",
		"Ki" };

	for (int i = 0; i < 6 && bytes != 0; i++) {
		int shift = 10 * (6 - i);

		if ((bytes & ((UINT64_C(1) << shift) - 1)) == 0) {
			snprintf(buf, size, "%" PRIu64 "%s", bytes >> shift,
			    units[i]);
			return buf;
		}
	}
	snprintf(buf, size, "%" PRIu64, bytes);
	return buf;
}
