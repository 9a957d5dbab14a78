/*-------------------------------------------------------------------------
 *
 * test_promo_rule.c
 *		Standalone unit tests of src/promo_rule.c: each condition of a
 *		promo code refuses with its reason, in the order of the rule, the
 *		budget on the discount, and the discount of an applied code.
 *
 * Prints one TAP-like line per test and a summary, and exits non-zero if
 * any test failed.  Build: see test/unit/run.
 *
 *-------------------------------------------------------------------------
 */
#include "promo_rule.h"
#include "check.h"

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#define SEC INT64_C(1000000)
#define AT (1000 * SEC)

/* A promo code that applies: active, no window, every channel, no level, no limit, 10 % off. */
static PromoFacts
promo(void)
{
	PromoFacts	f;

	memset(&f, 0, sizeof(f));
	f.is_active = true;
	f.on_channel = true;
	f.level_ok = true;
	f.has_contact = true;
	f.percent_off_bp = 1000;
	return f;
}

/* True when f is refused with reason on a basket of total cents. */
static bool
refused(const PromoFacts *f, int64_t total, const char *reason)
{
	const char *r = promo_refusal(f, AT, total);

	return r != NULL && strcmp(r, reason) == 0;
}

/* Each condition on its own. */
static void
test_conditions(void)
{
	PromoFacts	f = promo();

	check(promo_refusal(&f, AT, 1000) == NULL, "a code with no condition applies");
	f.is_active = false;
	check(refused(&f, 1000, "promo_not_active"), "switched off: promo_not_active");

	f = promo();
	f.valid_from_set = true;
	f.valid_from = AT + 1;
	check(refused(&f, 1000, "not_yet_valid"), "valid_from after the sale: not_yet_valid");
	f.valid_from = AT;
	check(promo_refusal(&f, AT, 1000) == NULL, "valid_from at the sale: applies");

	f = promo();
	f.valid_until_set = true;
	f.valid_until = AT;
	check(refused(&f, 1000, "expired"), "valid_until at the sale: expired");
	f.valid_until = AT + 1;
	check(promo_refusal(&f, AT, 1000) == NULL, "valid_until after the sale: applies");

	f = promo();
	f.on_channel = false;
	check(refused(&f, 1000, "wrong_channel"), "not on the sale's channel: wrong_channel");
	f = promo();
	f.level_ok = false;
	check(refused(&f, 1000, "indicator_level_required"), "the contact lacks the level: indicator_level_required");

	f = promo();
	f.per_contact_set = true;
	f.per_contact = 1;
	f.has_contact = false;
	check(refused(&f, 1000, "contact_required"), "a per-contact limit and no contact: contact_required");
	f.has_contact = true;
	check(promo_refusal(&f, AT, 1000) == NULL, "a per-contact limit with a contact who has not used it: applies");
	f.taken_by_contact = 1;
	check(refused(&f, 1000, "promo_contact_limit_reached"), "the contact's uses taken: promo_contact_limit_reached");

	f = promo();
	f.has_contact = false;
	check(promo_refusal(&f, AT, 1000) == NULL, "no per-contact limit: no contact needed");
	f.total_set = true;
	f.total = 5;
	f.taken = 4;
	check(promo_refusal(&f, AT, 1000) == NULL, "4 of 5 uses taken: applies");
	f.taken = 5;
	check(refused(&f, 1000, "promo_limit_reached"), "5 of 5 uses taken: promo_limit_reached");

	f = promo();
	f.min_basket = 1000;
	check(promo_refusal(&f, AT, 1000) == NULL, "a basket at the minimum: applies");
	check(refused(&f, 999, "min_amount_not_reached"), "a cent below the minimum: min_amount_not_reached");
}

/* The first condition that fails is the reason. */
static void
test_order(void)
{
	PromoFacts	f;

	memset(&f, 0, sizeof(f));
	f.valid_from_set = f.valid_until_set = f.per_contact_set = f.total_set = true;
	f.valid_from = AT + 1;
	f.valid_until = AT;
	f.min_basket = 1000000;
	check(refused(&f, 0, "promo_not_active"), "every condition fails: promo_not_active first");
	f.is_active = true;
	check(refused(&f, 0, "not_yet_valid"), "then not_yet_valid");
	f.valid_from_set = false;
	check(refused(&f, 0, "expired"), "then expired");
	f.valid_until_set = false;
	check(refused(&f, 0, "wrong_channel"), "then wrong_channel");
	f.on_channel = true;
	check(refused(&f, 0, "indicator_level_required"), "then indicator_level_required");
	f.level_ok = true;
	check(refused(&f, 0, "contact_required"), "then contact_required");
	f.has_contact = true;
	check(refused(&f, 0, "promo_limit_reached"), "then promo_limit_reached");
	f.total = 1;
	check(refused(&f, 0, "promo_contact_limit_reached"), "then promo_contact_limit_reached");
	f.per_contact = 1;
	check(refused(&f, 0, "min_amount_not_reached"), "then min_amount_not_reached");
	f.budget_set = true;
	f.budget = 100;
	f.budget_taken = 100;
	f.amount_off_set = true;
	f.amount_off = 500;
	check(refused(&f, 1000000, "promo_budget_reached"), "then promo_budget_reached, last");
	f.min_basket = 2000000;
	check(refused(&f, 1000000, "min_amount_not_reached"), "a basket below the minimum: not the budget");
	f.total = 0;
	check(refused(&f, 1000000, "promo_limit_reached"), "uses taken and budget spent: promo_limit_reached");
}

/* The budget: the whole discount must fit in what is left, never a part of it. */
static void
test_budget(void)
{
	PromoFacts	f = promo();

	f.budget_set = true;
	f.budget = 1000;
	check(promo_refusal(&f, AT, 10000) == NULL, "a discount of exactly the budget applies");
	check(refused(&f, 10010, "promo_budget_reached"), "a cent more than the budget: promo_budget_reached");
	f.budget_taken = 999;
	check(promo_refusal(&f, AT, 10) == NULL, "the last cent of the budget: a discount of 1 applies");
	check(refused(&f, 15, "promo_budget_reached"), "a discount of 2 with 1 left: refused, not capped");
	f.budget_taken = 1000;
	check(promo_refusal(&f, AT, 4) == NULL, "the budget spent: a basket with no discount (0) applies");
	check(refused(&f, 5, "promo_budget_reached"), "the budget spent: a discount of 1 is refused");
	f.budget_taken = 0;
	f.amount_off_set = true;
	f.amount_off = 1000;
	check(promo_refusal(&f, AT, 50000) == NULL, "an amount off equal to the budget applies");
	f.budget = 999;
	check(refused(&f, 50000, "promo_budget_reached"), "an amount off a cent above the budget is refused");
	check(promo_refusal(&f, AT, 999) == NULL, "the amount off capped by a smaller basket fits the budget");
	f.budget_set = false;
	f.budget_taken = INT64_C(5000000000);
	check(promo_refusal(&f, AT, 50000) == NULL, "no budget: the discount taken does not matter");
	f.budget_set = true;
	f.budget = INT64_C(2147483647);
	f.budget_taken = INT64_C(2147483646);
	f.amount_off = INT64_C(100000000000);
	check(refused(&f, INT64_C(100000000000), "promo_budget_reached"), "a discount of 10^11 cents against the largest budget");
	f.amount_off = -1;
	check(promo_refusal(&f, AT, 1000) == NULL, "an amount out of range: left to promo_discount, not refused");
}

/* The discount of an applied code. */
static void
test_discount(void)
{
	PromoFacts	f = promo();
	int64_t		d;

	check(promo_discount(&f, 3333, &d) && d == 333, "10 % of 33.33 is 3.33");
	f.percent_off_bp = 1500;
	check(promo_discount(&f, 10, &d) && d == 2, "15 % of 0.10 rounds half up to 0.02");
	f.amount_off_set = true;
	f.amount_off = 500;
	check(promo_discount(&f, 3000, &d) && d == 500, "an amount off");
	check(promo_discount(&f, 300, &d) && d == 300, "an amount off never above the total");
	f.amount_off = -1;
	check(!promo_discount(&f, 300, &d), "an amount out of range is false");
}

int
main(void)
{
	test_conditions();
	test_order();
	test_budget();
	test_discount();
	return check_summary("test_promo_rule");
}
