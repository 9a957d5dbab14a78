/*-------------------------------------------------------------------------
 *
 * code.c
 *		The benefit.code type: a single-use code stored as a fixed 8-byte,
 *		pass-by-value integer; text and binary input/output and the
 *		non-throwing validity predicate.
 *
 * The parser, formatter and check character are in code_format.c (no
 * PostgreSQL headers); this file only turns their results into Datums and
 * errors.  Comparison and hashing reuse the int8 support functions (the
 * Datum is an int64), declared in the install script.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "fmgr.h"
#include "libpq/pqformat.h"
#include "utils/builtins.h"

#include "code_format.h"

/* First byte of the binary form; bump when the wire format changes. */
#define BENEFIT_CODE_WIRE_VERSION 1

/* Raises 22P02 for a literal the parser refused, saying what is wrong. */
static void
report_bad_code(const char *str, BCodeStatus st, size_t bad_pos)
{
	switch (st)
	{
		case BCODE_BAD_CHAR:
			{
				unsigned char c = (unsigned char) str[bad_pos];

				ereport(ERROR,
						errcode(ERRCODE_INVALID_TEXT_REPRESENTATION),
						errmsg("invalid input syntax for type %s: \"%s\"", "benefit.code", str),
						(c >= 0x21 && c < 0x7f) ?
						errdetail("Character \"%c\" at position %d is not allowed in a code.", c, (int) bad_pos + 1) :
						errdetail("The byte at position %d is not allowed in a code.", (int) bad_pos + 1),
						errhint("Codes use the digits and the letters A to Z except I, L, O and U; spaces and hyphens are ignored."));
			}
			break;
		case BCODE_BAD_CHECK:
			ereport(ERROR,
					errcode(ERRCODE_INVALID_TEXT_REPRESENTATION),
					errmsg("invalid input syntax for type %s: \"%s\"", "benefit.code", str),
					errdetail("The check character does not match: the code was mistyped."));
			break;
		default:
			ereport(ERROR,
					errcode(ERRCODE_INVALID_TEXT_REPRESENTATION),
					errmsg("invalid input syntax for type %s: \"%s\"", "benefit.code", str),
					errdetail("A code has %d characters (%s).", BCODE_CODE_CHARS,
							  bcode_status_message(st)));
			break;
	}
}

PG_FUNCTION_INFO_V1(benefit_code_in);

/* Reads a code from its text form; 22P02 when malformed or mistyped. */
Datum
benefit_code_in(PG_FUNCTION_ARGS)
{
	const char *str = PG_GETARG_CSTRING(0);
	uint64_t	value;
	size_t		bad_pos;
	BCodeStatus st;

	st = bcode_parse(str, strlen(str), &value, &bad_pos);
	if (st != BCODE_OK)
		report_bad_code(str, st, bad_pos);
	PG_RETURN_INT64((int64) value);
}

PG_FUNCTION_INFO_V1(benefit_code_out);

/* Writes a code in its canonical grouped form dddd-dddd-dddd-c. */
Datum
benefit_code_out(PG_FUNCTION_ARGS)
{
	uint64_t	value = (uint64_t) PG_GETARG_INT64(0);
	char	   *out = palloc(BCODE_TEXT_SIZE);

	bcode_format(value, out);
	PG_RETURN_CSTRING(out);
}

PG_FUNCTION_INFO_V1(benefit_code_recv);

/* Reads the binary form: a version byte, then the 64-bit value. */
Datum
benefit_code_recv(PG_FUNCTION_ARGS)
{
	StringInfo	buf = (StringInfo) PG_GETARG_POINTER(0);
	int			version = pq_getmsgbyte(buf);
	uint64_t	value;

	if (version != BENEFIT_CODE_WIRE_VERSION)
		ereport(ERROR,
				errcode(ERRCODE_INVALID_BINARY_REPRESENTATION),
				errmsg("unsupported binary format version %d for type %s", version, "benefit.code"),
				errdetail("This server reads version %d.", BENEFIT_CODE_WIRE_VERSION));
	value = (uint64_t) pq_getmsgint64(buf);
	if (value > BCODE_VALUE_MASK)
		ereport(ERROR,
				errcode(ERRCODE_INVALID_BINARY_REPRESENTATION),
				errmsg("invalid binary value for type %s", "benefit.code"),
				errdetail("A code holds %d bits; the value received has more.", BCODE_DATA_BITS));
	PG_RETURN_INT64((int64) value);
}

PG_FUNCTION_INFO_V1(benefit_code_send);

/* Writes the binary form: a version byte, then the 64-bit value. */
Datum
benefit_code_send(PG_FUNCTION_ARGS)
{
	int64		value = PG_GETARG_INT64(0);
	StringInfoData buf;

	pq_begintypsend(&buf);
	pq_sendbyte(&buf, BENEFIT_CODE_WIRE_VERSION);
	pq_sendint64(&buf, value);
	PG_RETURN_BYTEA_P(pq_endtypsend(&buf));
}

PG_FUNCTION_INFO_V1(benefit_is_valid_code);

/* Tells whether a text is a well-formed code with the right check character; never raises. */
Datum
benefit_is_valid_code(PG_FUNCTION_ARGS)
{
	text	   *t = PG_GETARG_TEXT_PP(0);

	PG_RETURN_BOOL(bcode_parse(VARDATA_ANY(t), VARSIZE_ANY_EXHDR(t), NULL, NULL) == BCODE_OK);
}
