/*-------------------------------------------------------------------------
 *
 * use_rule.c
 *		The one rule of using a code or a benefit (see use_rule.h).
 *		Plain C99, no PostgreSQL headers: unit-tested by test/unit.
 *
 *-------------------------------------------------------------------------
 */
#include "use_rule.h"

#include <string.h>

/* The first condition that fails, or NULL. */
const char *
use_refusal(const UseFacts *f, int64_t now)
{
	int64_t		units = f->units > 0 ? f->units : 1;

	if (f->code_state == USE_INVALIDATED)
		return "invalidated";
	if (f->code_state == USE_USED)
		return "already_used";
	if (f->code_state == USE_HELD && !f->held_by_this_order && f->hold_until >= now)
		return "held_by_other_order";
	if (!f->benefit_live)
		return "benefit_not_live";
	if (f->valid_from_set && f->valid_from > now)
		return "not_yet_valid";
	if (f->valid_until_set && f->valid_until <= now)
		return "expired";
	if (f->channel_given && !f->on_channel)
		return "wrong_channel";
	if (f->channel_given && f->web_channel && f->benefit_pos_set && !f->pos_matches)
		return "wrong_point_of_sale";
	/* the units of a code this order holds are reserved already */
	if (f->code_state == USE_HELD && f->held_by_this_order)
		return NULL;
	if (f->total_set && f->total_left < units)
		return "quota_exhausted";
	if (f->contact_set && f->contact_left < units)
		return "contact_quota_exhausted";
	return NULL;
}

/* A benefit.code_state label as a UseCodeState. */
bool
use_code_state(const char *label, UseCodeState *state)
{
	if (label == NULL)
		*state = USE_NO_CODE;
	else if (strcmp(label, "issued") == 0)
		*state = USE_ISSUED;
	else if (strcmp(label, "held") == 0)
		*state = USE_HELD;
	else if (strcmp(label, "used") == 0)
		*state = USE_USED;
	else if (strcmp(label, "invalidated") == 0)
		*state = USE_INVALIDATED;
	else
		return false;
	return true;
}
