/*-------------------------------------------------------------------------
 *
 * test_code_format.c
 *		Standalone unit tests of src/code_format.c (single-use code parser,
 *		formatter and check character).
 *
 * Prints one TAP-like line per test ("ok N - name" / "not ok N - name"),
 * then a plan line and a summary "N passed, N failed", and exits non-zero
 * if any test failed.  The check character is recomputed here by an
 * independent reference implementation (general GF(32) multiplication with
 * explicit polynomial reduction), and fixed values were worked out by hand.
 * Random inputs come from a deterministically seeded xorshift64 PRNG.
 *
 * Build: see test/unit/run.
 *
 *-------------------------------------------------------------------------
 */
#include "code_format.h"
#include "check.h"

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#define MASK60			((UINT64_C(1) << 60) - 1)
#define NRANDOM_CODES	3000
#define NROUNDTRIPS		200000
#define LONG_LEN		1000000

static const char alphabet[] = "0123456789ABCDEFGHJKMNPQRSTVWXYZ";

static uint64_t prng_state = UINT64_C(0x9E3779B97F4A7C15);

/* Big input buffer for the very-long-input tests (test code, not library). */
static char long_buf[LONG_LEN + 32];

/* Returns the next value of a xorshift64 PRNG (fixed seed above). */
static uint64_t
xorshift64(void)
{
	uint64_t	x = prng_state;

	x ^= x << 13;
	x ^= x >> 7;
	x ^= x << 17;
	prng_state = x;
	return x;
}

/* Reference GF(32) multiply: carry-less product, then reduce by 0x25. */
static unsigned int
ref_gf_mul(unsigned int a, unsigned int b)
{
	unsigned int p = 0;
	int			bit;

	for (bit = 0; bit < 5; bit++)
		if (b & (1u << bit))
			p ^= a << bit;
	/* p has degree <= 8: long division by x^5 + x^2 + 1 */
	for (bit = 8; bit >= 5; bit--)
		if (p & (1u << bit))
			p ^= 0x25u << (bit - 5);
	return p;
}

/* Reference alpha^k, alpha = 2, by repeated general multiplication. */
static unsigned int
ref_alpha_pow(int k)
{
	unsigned int r = 1;

	while (k-- > 0)
		r = ref_gf_mul(r, 2);
	return r;
}

/* Reference check value: XOR of alpha^(i+1) * d_i, i = 0..11. */
static unsigned int
ref_check(uint64_t value)
{
	unsigned int sum = 0;
	int			i;

	for (i = 0; i < 12; i++)
	{
		unsigned int d = (unsigned int) (value >> (55 - 5 * i)) & 31;

		sum ^= ref_gf_mul(ref_alpha_pow(i + 1), d);
	}
	return sum;
}

/* Reference grouped text form, built without the library. */
static void
ref_format(uint64_t value, char out[17])
{
	int			i;
	int			o = 0;

	for (i = 0; i < 12; i++)
	{
		out[o++] = alphabet[(value >> (55 - 5 * i)) & 31];
		if (i % 4 == 3)
			out[o++] = '-';
	}
	out[o++] = alphabet[ref_check(value)];
	out[o] = '\0';
}

/* Returns the 5-bit value of an uppercase canonical symbol. */
static int
sym_index(char c)
{
	const char *p = strchr(alphabet, c);

	return (c != '\0' && p) ? (int) (p - alphabet) : -1;
}

/* Parses a NUL-terminated string; checks status, bad_pos and value. */
static bool
parse_is(const char *s, BCodeStatus want, size_t want_pos, uint64_t want_val)
{
	uint64_t	v = 12345;
	size_t		pos = 777;
	BCodeStatus st = bcode_parse(s, strlen(s), &v, &pos);

	if (st != want || pos != want_pos)
		return false;
	return v == (want == BCODE_OK ? want_val : 0);
}

/* Parses s[0..len) and checks status and bad_pos. */
static bool
parse_len_is(const char *s, size_t len, BCodeStatus want, size_t want_pos)
{
	uint64_t	v;
	size_t		pos = 777;

	return bcode_parse(s, len, &v, &pos) == want && pos == want_pos;
}

/* Positions in "XXXX-XXXX-XXXX-C" of the 13 significant characters. */
static int
sig_offset(int k)
{
	return k + k / 4;
}

/* Fixed, hand-verified values of the text form. */
static void
test_fixed_values(void)
{
	char		buf[BCODE_TEXT_SIZE];
	static const unsigned int want_w[12] = {2, 4, 8, 16, 5, 10, 20, 13, 26, 17, 7, 14};
	bool		good;
	int			i,
				j;

	bcode_format(0, buf);
	check(strcmp(buf, "0000-0000-0000-0") == 0, "value 0 formats as 0000-0000-0000-0");

	/* only d_11 = 1: check = alpha^12 = 14 = 'E' */
	bcode_format(1, buf);
	check(strcmp(buf, "0000-0000-0001-E") == 0, "value 1 formats as 0000-0000-0001-E");

	/*
	 * All d_i = 31: check = 31 * (XOR of weights) = 31 * 10 = x^4 + x^3 =
	 * 24 = 'R' (worked by hand: (x^4+x^3+x^2+x+1)(x^3+x) = x^7+x^6+x^2+x,
	 * x^5 = x^2+1, x^6 = x^3+x, x^7 = x^4+x^2).
	 */
	bcode_format(MASK60, buf);
	check(strcmp(buf, "ZZZZ-ZZZZ-ZZZZ-R") == 0, "value 2^60-1 formats as ZZZZ-ZZZZ-ZZZZ-R");
	check(ref_check(MASK60) == 24, "reference implementation agrees: check of 2^60-1 is 24 (R)");

	/* 0x0123456789ABCDEF, digits by hand: 2 8 26 5 12 30 4 26 23 19 15 15 */
	bcode_format(UINT64_C(0x0123456789ABCDEF), buf);
	good = strncmp(buf, "28T5-CY4T-QKFF-", 15) == 0 &&
		buf[15] == alphabet[ref_check(UINT64_C(0x0123456789ABCDEF))];
	check(good, "value 0x0123456789ABCDEF formats as 28T5-CY4T-QKFF-<check>");

	good = true;
	for (i = 0; i < 12; i++)
		if (ref_alpha_pow(i + 1) != want_w[i])
			good = false;
	check(good, "weights alpha^1..alpha^12 are 2 4 8 16 5 10 20 13 26 17 7 14");

	good = true;
	for (i = 0; i <= 12; i++)
		for (j = i + 1; j <= 12; j++)
			if (ref_alpha_pow(i) == ref_alpha_pow(j) || ref_alpha_pow(i) == 0)
				good = false;
	check(good, "weights alpha^0..alpha^12 are distinct and nonzero");

	good = ref_alpha_pow(31) == 1;
	for (i = 1; i < 31; i++)
		if (ref_alpha_pow(i) == 1)
			good = false;
	check(good, "alpha = 2 has order 31 (x^5 + x^2 + 1 is primitive)");

	check(bcode_check_char(0) == '0' && bcode_check_char(1) == 'E' &&
		  bcode_check_char(MASK60) == 'R', "bcode_check_char fixed values");
}

/* Formatting of random values against the reference implementation. */
static void
test_format_random(void)
{
	char		buf[BCODE_TEXT_SIZE];
	char		ref[17];
	bool		same = true;
	bool		shape = true;
	bool		chk = true;
	bool		high = true;
	int			n;

	for (n = 0; n < NROUNDTRIPS; n++)
	{
		uint64_t	raw = xorshift64();
		uint64_t	v = raw & MASK60;
		char		buf2[BCODE_TEXT_SIZE];

		memset(buf, 'x', sizeof(buf));
		bcode_format(v, buf);
		ref_format(v, ref);
		if (strcmp(buf, ref) != 0)
			same = false;
		if (strlen(buf) != 16 || buf[4] != '-' || buf[9] != '-' || buf[14] != '-')
			shape = false;
		if (bcode_check_char(v) != buf[15])
			chk = false;
		bcode_format(raw | ~MASK60, buf2);
		if (strcmp(buf, buf2) != 0 || bcode_check_char(raw | ~MASK60) != buf[15])
			high = false;
	}
	check(same, "format matches reference implementation on 200000 random values");
	check(shape, "formatted text is 16 chars with hyphens at 4, 9, 14");
	check(chk, "bcode_check_char equals the last char of the formatted text");
	check(high, "bits above 60 are ignored by format and check_char");
}

/* Format then parse gives back the value, also with forgiving spellings. */
static void
test_round_trip(void)
{
	char		buf[BCODE_TEXT_SIZE];
	bool		ok_plain = true;
	bool		ok_lower = true;
	bool		ok_compact = true;
	int			n,
				i;

	for (n = 0; n < NROUNDTRIPS; n++)
	{
		uint64_t	v = bcode_from_random(xorshift64());
		uint64_t	got = 0;
		size_t		pos = 0;
		char		lower[BCODE_TEXT_SIZE];
		char		compact[40];
		int			o = 0;

		bcode_format(v, buf);
		if (bcode_parse(buf, 16, &got, &pos) != BCODE_OK || got != v || pos != BCODE_NO_POS)
			ok_plain = false;

		for (i = 0; i < BCODE_TEXT_SIZE; i++)
			lower[i] = (buf[i] >= 'A' && buf[i] <= 'Z') ? (char) (buf[i] - 'A' + 'a') : buf[i];
		got = 0;
		if (bcode_parse(lower, 16, &got, NULL) != BCODE_OK || got != v)
			ok_lower = false;

		/* no hyphens, but spaces and hyphens scattered around */
		compact[o++] = ' ';
		for (i = 0; i < 16; i++)
		{
			if (buf[i] == '-')
				continue;
			compact[o++] = buf[i];
			if (i % 3 == 0)
				compact[o++] = (i % 2) ? ' ' : '-';
		}
		compact[o++] = '-';
		got = 0;
		if (bcode_parse(compact, (size_t) o, &got, NULL) != BCODE_OK || got != v)
			ok_compact = false;
	}
	check(ok_plain, "round trip of 200000 random values");
	check(ok_lower, "round trip through lowercase text");
	check(ok_compact, "round trip with hyphens removed and spaces/hyphens scattered");
}

/* Case, spaces, hyphens and the O/I/L aliases. */
static void
test_forgiving_input(void)
{
	uint64_t	ones = 0;
	char		buf[BCODE_TEXT_SIZE];
	char		alias[BCODE_TEXT_SIZE];
	uint64_t	v;
	int			i;

	check(parse_is("0000-0000-0000-0", BCODE_OK, BCODE_NO_POS, 0), "parse 0000-0000-0000-0");
	check(parse_is("zzzz-zzzz-zzzz-r", BCODE_OK, BCODE_NO_POS, MASK60), "parse lowercase zzzz-zzzz-zzzz-r");
	check(parse_is("ZzZz-zZzZ-ZZzz-R", BCODE_OK, BCODE_NO_POS, MASK60), "parse mixed case");
	check(parse_is("ZZZZZZZZZZZZR", BCODE_OK, BCODE_NO_POS, MASK60), "parse without separators");
	check(parse_is("  Z Z Z Z ZZZZ   ZZZZ R  ", BCODE_OK, BCODE_NO_POS, MASK60), "spaces ignored anywhere");
	check(parse_is("--ZZ--ZZZZZZ-ZZZZ---R-", BCODE_OK, BCODE_NO_POS, MASK60), "hyphens ignored anywhere");
	check(parse_is(" -Z-Z Z- ZZZZZZZZZ R- ", BCODE_OK, BCODE_NO_POS, MASK60), "mixed spaces and hyphens ignored");
	check(parse_is("OOOO-oooo-0O0o-O", BCODE_OK, BCODE_NO_POS, 0), "O and o read as 0 (data and check)");
	check(parse_is("0000-0000-0001-e", BCODE_OK, BCODE_NO_POS, 1), "lowercase check char");
	check(parse_is("0000-0000-000I-E", BCODE_OK, BCODE_NO_POS, 1) &&
		  parse_is("0000-0000-000i-E", BCODE_OK, BCODE_NO_POS, 1) &&
		  parse_is("0000-0000-000L-E", BCODE_OK, BCODE_NO_POS, 1) &&
		  parse_is("0000-0000-000l-E", BCODE_OK, BCODE_NO_POS, 1), "I, i, L, l read as 1");

	for (i = 0; i < 12; i++)
		ones = (ones << 5) | 1;
	bcode_format(ones, buf);
	strcpy(alias, buf);
	for (i = 0; i < 15; i++)
		if (alias[i] == '1')
			alias[i] = "IiLl"[i % 4];
	check(strncmp(buf, "1111-1111-1111-", 15) == 0 &&
		  parse_is(alias, BCODE_OK, BCODE_NO_POS, ones), "all-ones digits spelled with I i L l");

	/* find a value whose check char is 1 and spell the check as l */
	v = 0;
	while (bcode_check_char(v) != '1')
		v++;
	bcode_format(v, buf);
	buf[15] = 'l';
	check(parse_is(buf, BCODE_OK, BCODE_NO_POS, v), "check char 1 accepted as l");

	/*
	 * 12 data chars x 5 bits = 60 bits exactly, so no 13-char input can
	 * overflow the 60-bit value: the largest possible is ZZZZ..., 2^60-1.
	 */
	v = 0;
	check(bcode_parse("ZZZZZZZZZZZZR", 13, &v, NULL) == BCODE_OK && v == MASK60 &&
		  (v >> BCODE_DATA_BITS) == 0,
		  "largest 13-char input is 2^60-1: top-bit overflow is impossible");
}

/* Every status with its bad_pos. */
static void
test_statuses(void)
{
	uint64_t	v;
	size_t		pos;
	static const char nul_mid[] = "0000\0000-0000-0";
	static const char nul_end[] = "0000-0000-0000-0\0";
	static const char not_terminated[16] = {'0', '0', '0', '0', '-', '0', '0', '0', '0', '-',
	'0', '0', '0', '0', '-', '0'};

	/* EMPTY */
	check(parse_len_is("", 0, BCODE_EMPTY, BCODE_NO_POS), "EMPTY: 0-length input");
	check(parse_len_is(NULL, 0, BCODE_EMPTY, BCODE_NO_POS), "EMPTY: NULL pointer with len 0");
	check(parse_len_is("0000-0000-0000-0", 0, BCODE_EMPTY, BCODE_NO_POS), "EMPTY: len 0 ignores the bytes");
	check(parse_is("    ", BCODE_EMPTY, BCODE_NO_POS, 0), "EMPTY: only spaces");
	check(parse_is("- - --", BCODE_EMPTY, BCODE_NO_POS, 0), "EMPTY: only spaces and hyphens");

	/* TOO_SHORT */
	check(parse_is("0", BCODE_TOO_SHORT, BCODE_NO_POS, 0), "TOO_SHORT: 1 char");
	check(parse_is("0000-0000-0000", BCODE_TOO_SHORT, BCODE_NO_POS, 0), "TOO_SHORT: 12 chars (check char missing)");
	check(parse_len_is("0000-0000-0000-0", 15, BCODE_TOO_SHORT, BCODE_NO_POS), "TOO_SHORT: len cuts the check char off");

	/* TOO_LONG */
	check(parse_is("0000-0000-0000-00", BCODE_TOO_LONG, 16, 0), "TOO_LONG: 14 chars, bad_pos = offset of 14th (16)");
	check(parse_is("00000000000000", BCODE_TOO_LONG, 13, 0), "TOO_LONG: 14 chars compact, bad_pos 13");
	check(parse_is("0000-0000-0000-0 -  Z", BCODE_TOO_LONG, 20, 0), "TOO_LONG: bad_pos skips separators");
	check(parse_is("ZZZZ-ZZZZ-ZZZZ-RZZZZZZZZZZZZ", BCODE_TOO_LONG, 16, 0), "TOO_LONG: valid code followed by more");

	/* BAD_CHAR */
	check(parse_is("0000-0000-0000-U", BCODE_BAD_CHAR, 15, 0), "BAD_CHAR: U, bad_pos 15");
	check(parse_is("u000-0000-0000-0", BCODE_BAD_CHAR, 0, 0), "BAD_CHAR: u, bad_pos 0");
	check(parse_is("0000\t0000-0000-0", BCODE_BAD_CHAR, 4, 0), "BAD_CHAR: tab, bad_pos 4");
	check(parse_is("0000_0000_0000_0", BCODE_BAD_CHAR, 4, 0), "BAD_CHAR: underscore, first of several");
	check(parse_is("0000.0000", BCODE_BAD_CHAR, 4, 0), "BAD_CHAR: reported before TOO_SHORT");
	check(parse_is("0000-0000-0000-0000!", BCODE_BAD_CHAR, 19, 0), "BAD_CHAR: reported before TOO_LONG");
	check(parse_is("0000-0000-0000-1\n", BCODE_BAD_CHAR, 16, 0), "BAD_CHAR: reported before BAD_CHECK (newline)");
	check(parse_is("!", BCODE_BAD_CHAR, 0, 0), "BAD_CHAR: lone punctuation");
	check(parse_is("0000-0000-\xC3\x98" "000-0", BCODE_BAD_CHAR, 10, 0), "BAD_CHAR: non-ASCII UTF-8 byte");
	check(parse_is("\x80", BCODE_BAD_CHAR, 0, 0) && parse_is("\xFF", BCODE_BAD_CHAR, 0, 0),
		  "BAD_CHAR: bytes 0x80 and 0xFF");
	check(parse_len_is(nul_mid, sizeof(nul_mid) - 1, BCODE_BAD_CHAR, 4), "BAD_CHAR: embedded NUL, bad_pos 4");
	check(parse_len_is(nul_end, sizeof(nul_end) - 1, BCODE_BAD_CHAR, 16), "BAD_CHAR: trailing NUL counted in len");
	check(parse_len_is("\0", 1, BCODE_BAD_CHAR, 0), "BAD_CHAR: a single NUL byte");

	/* BAD_CHECK */
	check(parse_is("0000-0000-0000-1", BCODE_BAD_CHECK, 15, 0), "BAD_CHECK: bad_pos = offset of check char (15)");
	check(parse_is("  0000000000001 ", BCODE_BAD_CHECK, 14, 0), "BAD_CHECK: offset counts leading spaces");
	check(parse_is("ZZZZ-ZZZZ-ZZZZ-Z", BCODE_BAD_CHECK, 15, 0), "BAD_CHECK: ZZZZ-ZZZZ-ZZZZ-Z");

	/* OK */
	check(parse_len_is(not_terminated, sizeof(not_terminated), BCODE_OK, BCODE_NO_POS),
		  "OK: buffer without NUL terminator");
	check(parse_len_is("0000-0000-0000-0XYZ", 16, BCODE_OK, BCODE_NO_POS), "OK: bytes past len are not read");

	/* NULL outputs and value on failure */
	check(bcode_parse("0000-0000-0000-0", 16, NULL, NULL) == BCODE_OK &&
		  bcode_parse("0000-0000-0000-1", 16, NULL, NULL) == BCODE_BAD_CHECK,
		  "value and bad_pos may be NULL");
	v = 99;
	pos = 99;
	check(bcode_parse("ZZZZ-ZZZZ-ZZZZ-Z", 16, &v, &pos) == BCODE_BAD_CHECK && v == 0,
		  "value is 0 on failure");
}

/* Every byte value is classified as documented. */
static void
test_byte_classes(void)
{
	bool		good = true;
	int			c;

	for (c = 0; c < 256; c++)
	{
		char		buf[18] = "0000-00?0-0000-0";
		bool		symbol = (c >= '0' && c <= '9') ||
			((c >= 'A' && c <= 'Z') && c != 'U') ||
			((c >= 'a' && c <= 'z') && c != 'u');
		bool		separator = (c == ' ' || c == '-');
		BCodeStatus st;
		size_t		pos = 0;

		buf[7] = (char) c;
		st = bcode_parse(buf, 16, NULL, &pos);
		if (symbol)
		{
			/* 13 chars: OK or BAD_CHECK, never a char error */
			if (st != BCODE_OK && st != BCODE_BAD_CHECK)
				good = false;
		}
		else if (separator)
		{
			if (st != BCODE_TOO_SHORT)
				good = false;
		}
		else if (st != BCODE_BAD_CHAR || pos != 7)
			good = false;
	}
	check(good, "all 256 bytes: only 0-9, A-Z, a-z except U/u, space, hyphen accepted");
}

/* Very long inputs. */
static void
test_long_input(void)
{
	uint64_t	v = 0;
	size_t		pos = 0;

	memset(long_buf, '0', LONG_LEN);
	check(parse_len_is(long_buf, LONG_LEN, BCODE_TOO_LONG, 13), "1,000,000 zeros: TOO_LONG at 13");

	long_buf[LONG_LEN - 1] = '\x01';
	check(parse_len_is(long_buf, LONG_LEN, BCODE_BAD_CHAR, LONG_LEN - 1),
		  "1,000,000 bytes with a bad last byte: BAD_CHAR at 999999");

	memset(long_buf, ' ', LONG_LEN);
	check(parse_len_is(long_buf, LONG_LEN, BCODE_EMPTY, BCODE_NO_POS), "1,000,000 spaces: EMPTY");

	memset(long_buf, '-', LONG_LEN);
	memcpy(long_buf + LONG_LEN / 2, "ZZZZ-ZZZZ-ZZZZ-R", 16);
	check(bcode_parse(long_buf, LONG_LEN, &v, &pos) == BCODE_OK && v == MASK60 &&
		  pos == BCODE_NO_POS, "valid code inside 1,000,000 hyphens: OK");
}

/*
 * Exhaustive error detection on random codes: every single-symbol
 * substitution (each of the 13 positions x each of the 31 other symbols)
 * and every swap of two different symbols, adjacent and not.
 */
static void
test_error_detection(void)
{
	bool		subst = true;
	bool		adj = true;
	bool		any = true;
	bool		reachable = true;
	long		nsubst = 0;
	long		nadj = 0;
	long		nswap = 0;
	int			n,
				k,
				j,
				s;
	char		msg[128];

	for (n = 0; n < NRANDOM_CODES; n++)
	{
		uint64_t	v = bcode_from_random(xorshift64());
		char		code[BCODE_TEXT_SIZE];
		char		mut[BCODE_TEXT_SIZE];

		/* every 10th code uses only symbols 0, 1, G, H: many equal pairs */
		if (n % 10 == 0)
			v &= UINT64_C(0x0084210842108421) * 17;
		bcode_format(v, code);

		for (k = 0; k < 13; k++)
		{
			int			off = sig_offset(k);
			int			orig = sym_index(code[off]);

			for (s = 0; s < 32; s++)
			{
				if (s == orig)
					continue;
				memcpy(mut, code, sizeof(code));
				mut[off] = alphabet[s];
				nsubst++;
				if (bcode_parse(mut, 16, NULL, NULL) != BCODE_BAD_CHECK)
					subst = false;
			}
		}

		for (k = 0; k < 13; k++)
		{
			for (j = k + 1; j < 13; j++)
			{
				int			a = sig_offset(k);
				int			b = sig_offset(j);
				uint64_t	got = 0;
				BCodeStatus st;

				memcpy(mut, code, sizeof(code));
				mut[a] = code[b];
				mut[b] = code[a];
				st = bcode_parse(mut, 16, &got, NULL);
				if (code[a] == code[b])
				{
					/* not an error: must still parse */
					if (st != BCODE_OK || got != v)
						reachable = false;
					continue;
				}
				nswap++;
				if (j == k + 1)
					nadj++;
				if (st != BCODE_BAD_CHECK)
				{
					any = false;
					if (j == k + 1)
						adj = false;
				}
			}
		}
	}
	snprintf(msg, sizeof(msg), "all %ld single substitutions on %d random codes give BAD_CHECK",
			 nsubst, NRANDOM_CODES);
	check(subst && nsubst == (long) NRANDOM_CODES * 13 * 31, msg);
	snprintf(msg, sizeof(msg), "all %ld adjacent swaps of different chars give BAD_CHECK", nadj);
	check(adj && nadj > 0, msg);
	snprintf(msg, sizeof(msg), "all %ld swaps of any two different chars give BAD_CHECK", nswap);
	check(any && nswap > nadj, msg);
	check(reachable, "swapping two equal chars leaves a valid code");
}

/* bcode_from_random masks to 60 bits. */
static void
test_from_random(void)
{
	bool		good = true;
	int			n;

	check(bcode_from_random(UINT64_MAX) == MASK60, "from_random(2^64-1) = 2^60-1");
	check(bcode_from_random(UINT64_C(0xF000000000000000)) == 0, "from_random drops the top 4 bits");
	check(bcode_from_random(UINT64_C(0x0123456789ABCDEF)) == UINT64_C(0x0123456789ABCDEF),
		  "from_random keeps the low 60 bits");
	for (n = 0; n < 100000; n++)
	{
		uint64_t	r = xorshift64();

		if (bcode_from_random(r) != (r & MASK60) || bcode_from_random(r) >> 60 != 0)
			good = false;
	}
	check(good, "from_random(r) = r & (2^60-1) on 100000 random r");
}

/* Status messages are short, lowercase and distinct. */
static void
test_messages(void)
{
	static const BCodeStatus all[] = {BCODE_OK, BCODE_EMPTY, BCODE_TOO_SHORT,
	BCODE_TOO_LONG, BCODE_BAD_CHAR, BCODE_BAD_CHECK};
	bool		good = true;
	size_t		i,
				j;

	for (i = 0; i < sizeof(all) / sizeof(all[0]); i++)
	{
		const char *m = bcode_status_message(all[i]);
		const char *p;

		if (m == NULL || m[0] == '\0' || strlen(m) > 40)
			good = false;
		else
			for (p = m; *p; p++)
				if (*p >= 'A' && *p <= 'Z')
					good = false;
		for (j = 0; j < i; j++)
			if (m && strcmp(m, bcode_status_message(all[j])) == 0)
				good = false;
	}
	check(good, "status messages are non-empty, lowercase, short and distinct");
	check(strcmp(bcode_status_message(BCODE_BAD_CHECK), "wrong check character") == 0,
		  "BAD_CHECK message is \"wrong check character\"");
	check(strcmp(bcode_status_message(BCODE_TOO_SHORT), "code too short") == 0 &&
		  strcmp(bcode_status_message(BCODE_TOO_LONG), "code too long") == 0 &&
		  strcmp(bcode_status_message(BCODE_BAD_CHAR), "invalid character in code") == 0 &&
		  strcmp(bcode_status_message(BCODE_EMPTY), "empty code") == 0,
		  "other error messages");
	check(bcode_status_message((BCodeStatus) 99) != NULL, "unknown status still has a message");
}

/* Runs all tests; exit status 0 only if all passed. */
int
main(void)
{
	test_fixed_values();
	test_format_random();
	test_round_trip();
	test_forgiving_input();
	test_statuses();
	test_byte_classes();
	test_long_input();
	test_error_detection();
	test_from_random();
	test_messages();

	return check_summary("test_code_format");
}
