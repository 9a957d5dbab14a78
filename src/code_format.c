/*-------------------------------------------------------------------------
 *
 * code_format.c
 *		Parser, formatter and check character of single-use benefit codes
 *		(Crockford base32, 12 data characters + 1 GF(32) check character).
 *
 * The format is documented in code_format.h.  This file uses only the C
 * standard library: no PostgreSQL headers, no global state, no allocation.
 *
 *-------------------------------------------------------------------------
 */
#include "code_format.h"

/* The 32 symbols, indexed by their 5-bit value. */
static const char bcode_alphabet[32] = "0123456789ABCDEFGHJKMNPQRSTVWXYZ";

/* Result of decode_byte() for bytes that are not symbols. */
#define DECODE_IGNORED	(-1)
#define DECODE_INVALID	(-2)

/* The field polynomial x^5 + x^2 + 1. */
#define GF32_POLY		0x25

/* Maps one input byte to its 5-bit value, DECODE_IGNORED or DECODE_INVALID. */
static int
decode_byte(unsigned char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'z')
		c = (unsigned char) (c - 'a' + 'A');

	switch (c)
	{
		case ' ':
		case '-':
			return DECODE_IGNORED;
		case 'O':
			return 0;
		case 'I':
		case 'L':
			return 1;
		case 'A':
			return 10;
		case 'B':
			return 11;
		case 'C':
			return 12;
		case 'D':
			return 13;
		case 'E':
			return 14;
		case 'F':
			return 15;
		case 'G':
			return 16;
		case 'H':
			return 17;
		case 'J':
			return 18;
		case 'K':
			return 19;
		case 'M':
			return 20;
		case 'N':
			return 21;
		case 'P':
			return 22;
		case 'Q':
			return 23;
		case 'R':
			return 24;
		case 'S':
			return 25;
		case 'T':
			return 26;
		case 'V':
			return 27;
		case 'W':
			return 28;
		case 'X':
			return 29;
		case 'Y':
			return 30;
		case 'Z':
			return 31;
		default:
			return DECODE_INVALID;
	}
}

/* Multiplies a GF(32) element by alpha = x, reducing by x^5 + x^2 + 1. */
static unsigned int
gf32_mul_alpha(unsigned int a)
{
	a <<= 1;
	if (a & 0x20)
		a ^= GF32_POLY;
	return a;
}

/* Returns 5-bit data digit i (0 = most significant) of a code value. */
static unsigned int
data_digit(uint64_t value, int i)
{
	return (unsigned int) (value >> (5 * (BCODE_DATA_CHARS - 1 - i))) & 0x1f;
}

/* Computes the 5-bit check value: sum of d_i * alpha^(i+1), i = 0..11. */
static unsigned int
check_value(uint64_t value)
{
	unsigned int acc = 0;
	int			i;

	/*
	 * Horner's rule from the last digit down: after the loop acc is
	 * d_11*alpha^11 + ... + d_1*alpha + d_0, and one more multiplication by
	 * alpha gives the weights alpha^1 .. alpha^12.
	 */
	for (i = BCODE_DATA_CHARS - 1; i >= 0; i--)
		acc = gf32_mul_alpha(acc) ^ data_digit(value, i);
	return gf32_mul_alpha(acc);
}

/* Returns the (uppercase) check character of value; bits above 60 ignored. */
char
bcode_check_char(uint64_t value)
{
	return bcode_alphabet[check_value(value & BCODE_VALUE_MASK)];
}

/* Writes the grouped text form dddd-dddd-dddd-c of value into out. */
void
bcode_format(uint64_t value, char out[BCODE_TEXT_SIZE])
{
	int			i;
	int			o = 0;

	value &= BCODE_VALUE_MASK;
	for (i = 0; i < BCODE_DATA_CHARS; i++)
	{
		out[o++] = bcode_alphabet[data_digit(value, i)];
		if (i % 4 == 3)
			out[o++] = '-';
	}
	out[o++] = bcode_alphabet[check_value(value)];
	out[o] = '\0';
}

/* Parses s[0 .. len) into a code value; see code_format.h for statuses. */
BCodeStatus
bcode_parse(const char *s, size_t len, uint64_t *value, size_t *bad_pos)
{
	uint64_t	acc = 0;
	unsigned int check = 0;
	size_t		nsig = 0;		/* significant chars, saturates at 14 */
	size_t		check_pos = BCODE_NO_POS;
	size_t		extra_pos = BCODE_NO_POS;
	size_t		i;

	if (value)
		*value = 0;
	if (bad_pos)
		*bad_pos = BCODE_NO_POS;

	/*
	 * One pass over every byte: an invalid byte anywhere wins over a wrong
	 * length, so the scan does not stop once 14 significant chars are seen.
	 */
	for (i = 0; i < len; i++)
	{
		int			d = decode_byte((unsigned char) s[i]);

		if (d == DECODE_IGNORED)
			continue;
		if (d == DECODE_INVALID)
		{
			if (bad_pos)
				*bad_pos = i;
			return BCODE_BAD_CHAR;
		}

		if (nsig < BCODE_DATA_CHARS)
			acc = (acc << 5) | (uint64_t) d;
		else if (nsig == BCODE_DATA_CHARS)
		{
			check = (unsigned int) d;
			check_pos = i;
		}
		else if (nsig == BCODE_CODE_CHARS)
			extra_pos = i;
		else
			continue;			/* saturated: only invalid bytes matter now */
		nsig++;
	}

	if (nsig == 0)
		return BCODE_EMPTY;
	if (nsig < BCODE_CODE_CHARS)
		return BCODE_TOO_SHORT;
	if (nsig > BCODE_CODE_CHARS)
	{
		if (bad_pos)
			*bad_pos = extra_pos;
		return BCODE_TOO_LONG;
	}

	/* 12 digits of 5 bits are exactly 60 bits: acc cannot exceed 2^60 - 1. */
	if (check != check_value(acc))
	{
		if (bad_pos)
			*bad_pos = check_pos;
		return BCODE_BAD_CHECK;
	}

	if (value)
		*value = acc;
	return BCODE_OK;
}

/* Turns 64 uniformly random bits into a uniformly random code value. */
uint64_t
bcode_from_random(uint64_t random_bits)
{
	/*
	 * Masking keeps the low 60 bits.  2^64 / 2^60 = 16 exactly, so each code
	 * value has exactly 16 preimages: uniform, unlike a modulo by a number
	 * that does not divide 2^64.
	 */
	return random_bits & BCODE_VALUE_MASK;
}

/* Returns a short lowercase English description of st. */
const char *
bcode_status_message(BCodeStatus st)
{
	switch (st)
	{
		case BCODE_OK:
			return "valid code";
		case BCODE_EMPTY:
			return "empty code";
		case BCODE_TOO_SHORT:
			return "code too short";
		case BCODE_TOO_LONG:
			return "code too long";
		case BCODE_BAD_CHAR:
			return "invalid character in code";
		case BCODE_BAD_CHECK:
			return "wrong check character";
	}
	return "unknown code status";
}
