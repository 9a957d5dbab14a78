/*-------------------------------------------------------------------------
 *
 * test_use_rule.c
 *		Standalone unit tests of src/use_rule.c: each condition of using a
 *		code or a benefit refuses with its reason, in the order of the rule,
 *		and each boundary of a deadline, window and limit.
 *
 * Prints one TAP-like line per test and a summary, and exits non-zero if
 * any test failed.  Build: see test/unit/run.
 *
 *-------------------------------------------------------------------------
 */
#include "use_rule.h"
#include "check.h"

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#define SEC INT64_C(1000000)
#define NOW (1000 * SEC)

/* An issued code of a live benefit, no window, on the channel, no limit. */
static UseFacts
usable(void)
{
	UseFacts	f;

	memset(&f, 0, sizeof(f));
	f.code_state = USE_ISSUED;
	f.benefit_live = true;
	f.channel_given = true;
	f.on_channel = true;
	return f;
}

static bool
refused(const UseFacts *f, const char *reason)
{
	const char *r = use_refusal(f, NOW);

	return r != NULL && strcmp(r, reason) == 0;
}

static void
test_code_states(void)
{
	UseFacts	f = usable();

	check(use_refusal(&f, NOW) == NULL, "an issued code of a live benefit may be used");
	f.code_state = USE_NO_CODE;
	check(use_refusal(&f, NOW) == NULL, "a benefit without a code may be used");
	f = usable();
	f.code_state = USE_INVALIDATED;
	check(refused(&f, "invalidated"), "invalidated code: invalidated");
	f.code_state = USE_USED;
	check(refused(&f, "already_used"), "used code: already_used");
	f.code_state = USE_HELD;
	f.hold_until = NOW;
	check(refused(&f, "held_by_other_order"), "held by another order until now: held_by_other_order");
	f.hold_until = NOW - 1;
	check(use_refusal(&f, NOW) == NULL, "a hold that expired a microsecond ago does not count");
	f.hold_until = NOW + SEC;
	f.held_by_this_order = true;
	check(use_refusal(&f, NOW) == NULL, "held by this very order: may be used");
}

static void
test_benefit(void)
{
	UseFacts	f = usable();

	f.benefit_live = false;
	check(refused(&f, "benefit_not_live"), "benefit not live: benefit_not_live");
	f = usable();
	f.valid_from_set = true;
	f.valid_from = NOW + 1;
	check(refused(&f, "not_yet_valid"), "before valid_from: not_yet_valid");
	f.valid_from = NOW;
	check(use_refusal(&f, NOW) == NULL, "at valid_from: valid");
	f = usable();
	f.valid_until_set = true;
	f.valid_until = NOW;
	check(refused(&f, "expired"), "at valid_until (exclusive): expired");
	f.valid_until = NOW + 1;
	check(use_refusal(&f, NOW) == NULL, "before valid_until: valid");
}

static void
test_channel(void)
{
	UseFacts	f = usable();

	f.on_channel = false;
	check(refused(&f, "wrong_channel"), "not on the channel: wrong_channel");
	f.channel_given = false;
	check(use_refusal(&f, NOW) == NULL, "no channel given: the channel is not checked");
	f = usable();
	f.web_channel = true;
	f.benefit_pos_set = true;
	check(refused(&f, "wrong_point_of_sale"), "web sale on another point of sale: wrong_point_of_sale");
	f.pos_matches = true;
	check(use_refusal(&f, NOW) == NULL, "web sale on the benefit's point of sale: ok");
	f.pos_matches = false;
	f.web_channel = false;
	check(use_refusal(&f, NOW) == NULL, "box office: the point of sale is not checked");
}

static void
test_quotas(void)
{
	UseFacts	f = usable();

	f.total_set = true;
	f.total_left = 0;
	check(refused(&f, "quota_exhausted"), "sold out: quota_exhausted");
	f.total_left = 1;
	check(use_refusal(&f, NOW) == NULL, "one unit left, a question (0 units) counts as one: ok");
	f.units = 2;
	check(refused(&f, "quota_exhausted"), "two units needed, one left: quota_exhausted");
	f.total_left = 2;
	check(use_refusal(&f, NOW) == NULL, "two units needed, two left: ok");
	f.contact_set = true;
	f.contact_left = 1;
	check(refused(&f, "contact_quota_exhausted"), "the contact's limit has one unit left: contact_quota_exhausted");
	f.total_left = 0;
	check(refused(&f, "quota_exhausted"), "both used up: the total quota first");
	f.code_state = USE_HELD;
	f.hold_until = NOW + SEC;
	f.held_by_this_order = true;
	check(use_refusal(&f, NOW) == NULL, "a code this order holds: its units are reserved, the quotas are not checked");
}

static void
test_order(void)
{
	UseFacts	f = usable();

	f.code_state = USE_USED;
	f.benefit_live = false;
	f.on_channel = false;
	f.total_set = true;
	check(refused(&f, "already_used"), "a used code of a suspended benefit off its channel: already_used first");
	f.code_state = USE_ISSUED;
	check(refused(&f, "benefit_not_live"), "then benefit_not_live");
	f.benefit_live = true;
	f.valid_until_set = true;
	f.valid_until = NOW;
	check(refused(&f, "expired"), "then the window");
	f.valid_until_set = false;
	check(refused(&f, "wrong_channel"), "then the channel");
	f.on_channel = true;
	check(refused(&f, "quota_exhausted"), "then the quotas");
}

static void
test_labels(void)
{
	UseCodeState s;

	check(use_code_state(NULL, &s) && s == USE_NO_CODE, "no label: no code");
	check(use_code_state("held", &s) && s == USE_HELD, "held label");
	check(use_code_state("invalidated", &s) && s == USE_INVALIDATED, "invalidated label");
	check(!use_code_state("lost", &s), "an unknown label is refused");
}

int
main(void)
{
	test_code_states();
	test_benefit();
	test_channel();
	test_quotas();
	test_order();
	test_labels();
	return check_summary("test_use_rule");
}
