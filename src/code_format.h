/*-------------------------------------------------------------------------
 *
 * code_format.h
 *		Text form of single-use benefit codes: parse, format and check
 *		character.  Pure C99 (C standard library only, no PostgreSQL
 *		headers), no global state, no allocation; the SQL glue wraps it.
 *
 * FORMAT OF A SINGLE-USE CODE
 *
 * Value.  A code value is a uint64_t holding 60 bits of data; the top 4
 * bits are always zero (0 <= value < 2^60).
 *
 * Alphabet.  Crockford base32, one character per 5 bits:
 *
 *		0123456789ABCDEFGHJKMNPQRSTVWXYZ	(no I, L, O, U)
 *
 * Text form.  12 data characters, most significant 5 bits first (12 x 5 =
 * 60 bits exactly, so any 12 characters give a value below 2^60: a parsed
 * code can never overflow), then 1 check character, printed uppercase in
 * groups of four: dddd-dddd-dddd-c (16 characters, 17 bytes with the NUL).
 * Value 0 is 0000-0000-0000-0; value 2^60 - 1 is ZZZZ-ZZZZ-ZZZZ-R.
 *
 * Input is forgiving: letters are case-insensitive; O and o read as 0;
 * I, i, L and l read as 1; spaces and hyphens are ignored anywhere.  Every
 * other byte is an invalid character: tabs and other whitespace, any other
 * punctuation, U and u, NUL, and every non-ASCII byte.
 *
 * Check character.  Let d_0 .. d_11 be the 5-bit values of the data
 * characters (d_0 most significant).  Working in GF(32) = GF(2)[x] modulo
 * the primitive polynomial x^5 + x^2 + 1 (0x25), with alpha = x (= 2):
 *
 *		check = d_0*alpha^1 + d_1*alpha^2 + ... + d_11*alpha^12
 *
 * where + is XOR and * is field multiplication.  Why it works: alpha is
 * primitive, so its powers alpha^0 .. alpha^30 are 31 distinct nonzero
 * elements; the check character acts as a 13th symbol of weight alpha^0 = 1,
 * so a valid code satisfies sum(w_k * c_k) = 0 with 13 distinct nonzero
 * weights w_k.  Changing one symbol c_k by e != 0 changes the sum by
 * w_k * e != 0 (a field has no zero divisors); swapping two different
 * symbols a != b at positions j, k changes it by (w_j + w_k) * (a + b),
 * a product of two nonzero elements, so again != 0.  Hence every
 * single-character substitution and every swap of any two characters
 * (adjacent or not, check character included) is detected.
 *
 * Parsing (bcode_parse).  Significant characters are those left after
 * removing spaces and hyphens.  Statuses, in order of precedence:
 *
 *		BCODE_BAD_CHAR	some byte is invalid; bad_pos = 0-based byte offset
 *						of the first invalid byte (reported even when the
 *						length is also wrong)
 *		BCODE_EMPTY		no significant characters (also for len 0)
 *		BCODE_TOO_SHORT fewer than 13 significant characters
 *		BCODE_TOO_LONG	more than 13; bad_pos = byte offset of the 14th
 *		BCODE_BAD_CHECK check character does not match; bad_pos = byte
 *						offset of the check character (the 13th)
 *		BCODE_OK		*value = the code value
 *
 * For BCODE_OK, BCODE_EMPTY and BCODE_TOO_SHORT, *bad_pos is set to
 * BCODE_NO_POS.  Any reported position is < len.  On failure *value is 0.
 * The parser reads only s[0 .. len), never needs a NUL terminator, and
 * accepts any bytes.
 *
 * Generating.  bcode_from_random() takes 64 uniformly random bits and keeps
 * the low 60: since 2^60 divides 2^64, every 60-bit value is hit by exactly
 * 16 inputs, so the result is uniform (no modulo bias).
 *
 *-------------------------------------------------------------------------
 */
#ifndef BENEFIT_CODE_FORMAT_H
#define BENEFIT_CODE_FORMAT_H

#include <stddef.h>
#include <stdint.h>

/* Bits of data in a code value, and data characters in its text form. */
#define BCODE_DATA_BITS		60
#define BCODE_DATA_CHARS	12

/* Significant characters in a code: data characters + check character. */
#define BCODE_CODE_CHARS	(BCODE_DATA_CHARS + 1)

/* Mask of the bits a code value may use: 2^60 - 1. */
#define BCODE_VALUE_MASK	((UINT64_C(1) << BCODE_DATA_BITS) - 1)

/* Size of the grouped text form dddd-dddd-dddd-c including its NUL. */
#define BCODE_TEXT_SIZE		17

/* *bad_pos value when the status has no position in the input. */
#define BCODE_NO_POS		((size_t) -1)

typedef enum
{
	BCODE_OK = 0,
	BCODE_EMPTY,
	BCODE_TOO_SHORT,
	BCODE_TOO_LONG,
	BCODE_BAD_CHAR,
	BCODE_BAD_CHECK
} BCodeStatus;

/*
 * Parses s[0 .. len) into *value.  s may be NULL when len is 0; value and
 * bad_pos may each be NULL when the caller does not want them.
 */
extern BCodeStatus bcode_parse(const char *s, size_t len, uint64_t *value,
							   size_t *bad_pos);

/*
 * Writes the grouped text form of value, NUL-terminated, into out.  value
 * must be < 2^60: the caller masks (bits above 60 are ignored).
 */
extern void bcode_format(uint64_t value, char out[BCODE_TEXT_SIZE]);

/* Returns the (uppercase) check character of value; bits above 60 ignored. */
extern char bcode_check_char(uint64_t value);

/* Turns 64 uniformly random bits into a uniformly random code value. */
extern uint64_t bcode_from_random(uint64_t random_bits);

/* Returns a short lowercase English description of st. */
extern const char *bcode_status_message(BCodeStatus st);

#endif							/* BENEFIT_CODE_FORMAT_H */
