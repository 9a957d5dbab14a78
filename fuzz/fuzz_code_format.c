/*-------------------------------------------------------------------------
 *
 * fuzz_code_format.c
 *		libFuzzer target for src/code_format.c: bcode_parse must accept any
 *		bytes without reading outside them, and every accepted code must
 *		format to 16 characters and parse back to the same value.
 *
 * Build and run: fuzz/run [RUNS].
 *
 *-------------------------------------------------------------------------
 */
#include "code_format.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int			LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Aborts (a crash libFuzzer reports) when cond is false. */
static void
require(int cond)
{
	if (!cond)
		abort();
}

/* Checks that value formats to a 16-char code that parses back to value. */
static void
check_round_trip(uint64_t value)
{
	char		text[BCODE_TEXT_SIZE];
	uint64_t	again = ~(uint64_t) 0;
	size_t		pos = 0;

	bcode_format(value, text);
	require(strlen(text) == BCODE_TEXT_SIZE - 1);
	require(text[15] == bcode_check_char(value));
	require(bcode_parse(text, strlen(text), &again, &pos) == BCODE_OK);
	require(again == value);
	require(pos == BCODE_NO_POS);
}

/* One fuzz input: parse it, check the result, round-trip accepted codes. */
int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint64_t	value = ~(uint64_t) 0;
	size_t		pos = 0;
	BCodeStatus st;

	st = bcode_parse((const char *) data, size, &value, &pos);

	require(st >= BCODE_OK && st <= BCODE_BAD_CHECK);
	require(bcode_status_message(st) != NULL);
	/* a reported position always lies inside the input */
	require(pos == BCODE_NO_POS || pos < size);
	switch (st)
	{
		case BCODE_OK:
		case BCODE_EMPTY:
		case BCODE_TOO_SHORT:
			require(pos == BCODE_NO_POS);
			break;
		case BCODE_TOO_LONG:
		case BCODE_BAD_CHECK:
			require(pos < size);
			break;
		case BCODE_BAD_CHAR:
			require(pos < size);
			require(data[pos] != ' ' && data[pos] != '-');
			break;
	}

	if (st == BCODE_OK)
	{
		require(value >> BCODE_DATA_BITS == 0);
		check_round_trip(value);
	}
	else
		require(value == 0);

	/* the first 8 bytes as a raw value: masked, it must round-trip too */
	if (size >= 8)
	{
		uint64_t	raw;

		memcpy(&raw, data, sizeof(raw));
		require(bcode_from_random(raw) == (raw & BCODE_VALUE_MASK));
		check_round_trip(bcode_from_random(raw));
	}
	return 0;
}
