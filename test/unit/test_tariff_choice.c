/*-------------------------------------------------------------------------
 *
 * test_tariff_choice.c
 *		Standalone unit tests of src/tariff_choice.c: the usable benefits,
 *		the form of a tariff row, the candidates of the lines and their
 *		order, the choice with the quotas left (total, per contact, per
 *		performance) and its refusals, no_tariff, and the line amounts.
 *
 * Prints one TAP-like line per test and a summary, and exits non-zero if
 * any test failed.  Build: see test/unit/run.
 *
 *-------------------------------------------------------------------------
 */
#include "tariff_choice.h"
#include "check.h"

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#define MAXN 16

/* A benefit as eligibility gives it: no limit, no per-performance quota. */
static PriceBenefit
benefit(int64_t id, const char *code, const char *reason)
{
	PriceBenefit b;

	memset(&b, 0, sizeof(b));
	b.id = id;
	b.code = code;
	b.reason = reason;
	b.perf_quota = -1;
	b.left = -1;
	b.cleft = -1;
	b.code_units = -1;
	b.first = -1;
	b.cover = -1;
	return b;
}

/* A line of quantity units of product at base cents, on performance perf (0: none given). */
static PriceLine
line(int64_t product, int64_t perf, int32_t quantity, int64_t base)
{
	PriceLine	l;

	memset(&l, 0, sizeof(l));
	l.product_id = product;
	l.dims.performance_id = perf;
	l.dims.performance_any = perf == 0;
	l.dims.seat_any = true;
	l.dims.audience_any = true;
	l.quantity = quantity;
	l.base = base;
	l.chosen = -1;
	return l;
}

/* A tariff row of benefit index b for product, open on every dimension but perf (0: open). */
static void
tariff(PriceTariff *rows, BMDims *dims, int *n, int b, int64_t product, int64_t tariff_id, int64_t perf,
	   BMForm form, int64_t value)
{
	rows[*n].benefit = b;
	rows[*n].product_id = product;
	rows[*n].tariff_id = tariff_id;
	rows[*n].form = form;
	rows[*n].value = value;
	memset(&dims[*n], 0, sizeof(BMDims));
	dims[*n].performance_id = perf;
	dims[*n].performance_any = perf == 0;
	dims[*n].seat_any = true;
	dims[*n].audience_any = true;
	(*n)++;
}

/* True when refusal k is (line, benefit id, reason). */
static bool
refused(const PriceRefusal *r, int n, int k, int line_no, int64_t benefit_id, const char *reason)
{
	return k < n && r[k].line == line_no && r[k].benefit_id == benefit_id && strcmp(r[k].reason, reason) == 0;
}

/* The usable benefits and the refusals of eligibility. */
static void
test_usable(void)
{
	PriceBenefit b[4];
	int			ok[4];
	int			nok;
	PriceRefusal r[8];
	int			nr = 0;

	b[0] = benefit(7, "PUB", "ok");
	b[1] = benefit(9, "VIP", "wrong_channel");
	b[2] = benefit(7, "PUB", "ok");
	b[2].entered = "PUB-CODE";
	b[2].su_code = "0000-0000-0001-E";
	b[3] = benefit(5, "PART", "ok");
	nok = price_usable(b, 4, ok);
	check(nok == 2 && ok[0] == 0 && ok[1] == 3, "usable: the ok benefits, each id once, in order");
	check(b[0].entered != NULL && strcmp(b[0].entered, "PUB-CODE") == 0,
		  "usable: a benefit twice keeps the first, with the later code it lacked");
	check(b[0].su_code != NULL && strcmp(b[0].su_code, "0000-0000-0001-E") == 0,
		  "usable: and the later single-use code it lacked");
	check(price_benefit_index(b, ok, nok, 5) == 3 && price_benefit_index(b, ok, nok, 9) == -1,
		  "benefit index: a usable one by id, none for a refused one");
	price_refuse_unusable(b, 4, r, &nr);
	check(nr == 1 && refused(r, nr, 0, 0, 9, "wrong_channel") && strcmp(r[0].benefit_code, "VIP") == 0,
		  "refuse unusable: eligibility's reason, on no line");
}

/* The form of a tariff row. */
static void
test_form(void)
{
	BMForm		form;
	int64_t		value;

	price_tariff_form(false, 500, true, 0, true, 0, &form, &value);
	check(form == BM_FIXED_PRICE && value == 500, "form: a fixed price");
	price_tariff_form(true, 0, false, 200, true, 0, &form, &value);
	check(form == BM_AMOUNT_OFF && value == 200, "form: an amount off");
	price_tariff_form(true, 0, true, 0, false, 1250, &form, &value);
	check(form == BM_PERCENT_OFF && value == 1250, "form: a percentage off");
	price_tariff_form(true, 0, true, 0, true, 77, &form, &value);
	check(form == BM_PERCENT_OFF && value == 0, "form: none set is 0 % off");
}

/* Candidates: the most specific row of each benefit, in the order of the choice. */
static void
test_candidates(void)
{
	PriceBenefit b[3];
	PriceLine	l[2];
	PriceTariff rows[MAXN];
	BMDims		dims[MAXN];
	int			run[MAXN + 1];
	PriceCandidate c[MAXN];
	int			nrows = 0;
	int			n;

	b[0] = benefit(20, "B20", "ok");
	b[1] = benefit(10, "B10", "ok");
	b[2] = benefit(30, "B30", "ok");
	l[0] = line(1, 100, 1, 1000);
	l[1] = line(2, 0, 1, 2000);
	/* benefit 20 on product 1: open row 50 % off, row for performance 100 at 600 */
	tariff(rows, dims, &nrows, 0, 1, 1, 0, BM_PERCENT_OFF, 5000);
	tariff(rows, dims, &nrows, 0, 1, 2, 100, BM_FIXED_PRICE, 600);
	/* benefit 10 on products 1 and 2 */
	tariff(rows, dims, &nrows, 1, 1, 3, 0, BM_AMOUNT_OFF, 400);
	tariff(rows, dims, &nrows, 1, 2, 4, 0, BM_AMOUNT_OFF, 100);
	/* benefit 30 only for performance 200 of product 1: fits no line */
	tariff(rows, dims, &nrows, 2, 1, 5, 200, BM_FIXED_PRICE, 1);
	n = price_candidates(l, 2, rows, dims, nrows, run, b, c);
	check(n == 3, "candidates: one per (line, benefit) whose row fits");
	check(c[0].line == 0 && c[0].benefit_id == 10 && c[0].unit == 600 && c[0].tariff_id == 3,
		  "candidates: line 1, then unit price, then benefit id (10 before 20 at 600)");
	check(c[1].line == 0 && c[1].benefit_id == 20 && c[1].tariff_id == 2,
		  "candidates: the most specific row wins over the open one");
	check(c[2].line == 1 && c[2].benefit_id == 10 && c[2].unit == 1900, "candidates: then line 2");
	check(b[0].tried && b[1].tried && !b[2].tried, "candidates: the benefits with a candidate are tried");

	/* a unit price out of range */
	l[0] = line(1, 100, 1, BM_MAX_CENTS + 1);
	check(price_candidates(l, 1, rows, dims, nrows, run, b, c) == -1, "candidates: a base out of range is -1");
	check(price_candidates(l, 1, rows, dims, 0, run, b, c) == 0, "candidates: no tariff row, no candidate");
}

/* The choice with the quotas left and the refusals it makes. */
static void
test_choice(void)
{
	PriceBenefit b[3];
	PriceLine	l[3];
	PriceCandidate c[6];
	PricePerfLeft perf[6];
	PricePerfUsed used[1] = {{30, 100, 9}};
	PriceRefusal r[MAXN];
	int			nr = 0;

	b[0] = benefit(10, "B10", "ok");
	b[0].left = 3;
	b[1] = benefit(20, "B20", "ok");
	b[1].cleft = 1;
	b[2] = benefit(30, "B30", "ok");
	b[2].perf_quota = 10;
	l[0] = line(1, 100, 2, 1000);
	l[1] = line(1, 100, 2, 1000);
	l[2] = line(1, 0, 1, 500);
	/* sorted as price_candidates sorts them */
	c[0] = (PriceCandidate) {0, 0, 10, 1, 500};
	c[1] = (PriceCandidate) {0, 2, 30, 3, 700};
	c[2] = (PriceCandidate) {1, 0, 10, 1, 500};
	c[3] = (PriceCandidate) {1, 1, 20, 2, 600};
	c[4] = (PriceCandidate) {1, 2, 30, 3, 700};
	c[5] = (PriceCandidate) {2, 0, 10, 1, 500};
	price_choose(l, b, c, 6, used, 1, perf, r, &nr);
	check(l[0].chosen == 0, "choice: the cheapest wins line 1");
	check(refused(r, nr, 0, 1, 30, "not_best"), "choice: a dearer candidate of a won line is not_best");
	check(b[0].left == 1, "choice: the winner's units come off its quota left");
	check(refused(r, nr, 1, 2, 10, "quota_exhausted"), "choice: 1 unit left for 2 is quota_exhausted");
	check(refused(r, nr, 2, 2, 20, "contact_quota_exhausted"), "choice: the contact's 1 left for 2 is contact_quota_exhausted");
	check(refused(r, nr, 3, 2, 30, "performance_quota_exhausted"),
		  "choice: 9 of 10 used on the performance, 1 left for 2 is performance_quota_exhausted");
	check(l[1].chosen == -1, "choice: a line whose every candidate is refused keeps its base price");
	check(refused(r, nr, 4, 3, 10, "price_not_lower"), "choice: a unit price not below the base is price_not_lower");
	check(l[2].chosen == -1, "choice: a line with no candidate left keeps its base price");
	check(nr == 5, "choice: one refusal for every candidate that did not win");
}

/* The per-performance quota: used units counted once, taken line by line. */
static void
test_performance_quota(void)
{
	PriceBenefit b[1];
	PriceLine	l[3];
	PriceCandidate c[3];
	PricePerfLeft perf[3];
	PricePerfUsed used[2] = {{30, 100, 7}, {30, 200, 0}};
	PriceRefusal r[MAXN];
	int			nr = 0;

	b[0] = benefit(30, "B30", "ok");
	b[0].perf_quota = 10;
	l[0] = line(1, 100, 2, 1000);
	l[1] = line(1, 100, 2, 1000);
	l[2] = line(1, 300, 10, 1000);
	c[0] = (PriceCandidate) {0, 0, 30, 1, 500};
	c[1] = (PriceCandidate) {1, 0, 30, 1, 500};
	c[2] = (PriceCandidate) {2, 0, 30, 1, 500};
	price_choose(l, b, c, 3, used, 2, perf, r, &nr);
	check(l[0].chosen == 0, "performance quota: 3 left, 2 taken");
	check(l[1].chosen == -1 && refused(r, nr, 0, 2, 30, "performance_quota_exhausted"),
		  "performance quota: 1 left for 2 on the same performance");
	check(l[2].chosen == 2, "performance quota: a performance with no figure has the whole quota");
	check(nr == 1, "performance quota: one refusal");
}

/* no_tariff and the line amounts. */
static void
test_untried_and_amounts(void)
{
	PriceBenefit b[3];
	int			ok[3] = {0, 1, 2};
	PriceRefusal r[4];
	int			nr = 0;
	PriceLine	l[2];
	PriceCandidate c[1] = {{1, 0, 10, 1, 250}};
	int64_t		amounts[2];
	int64_t		total;

	b[0] = benefit(10, "B10", "ok");
	b[0].entered = "CODE10";
	b[0].tried = true;
	b[1] = benefit(20, "B20", "ok");
	b[1].entered = "CODE20";
	b[2] = benefit(30, "B30", "ok");
	price_refuse_untried(b, ok, 3, r, &nr);
	check(nr == 1 && refused(r, nr, 0, 0, 20, "no_tariff") && strcmp(r[0].entered, "CODE20") == 0,
		  "no_tariff: only a code-unlocked benefit without candidate");

	l[0] = line(1, 0, 3, 1000);
	l[1] = line(1, 0, 2, 1000);
	l[1].chosen = 0;
	check(price_line_amounts(l, 2, c, amounts, &total) && amounts[0] == 3000 && amounts[1] == 500 && total == 3500,
		  "amounts: the base or the winner's unit price times the quantity, and their sum");
	l[0].quantity = 2;
	l[0].base = BM_MAX_CENTS;
	check(!price_line_amounts(l, 2, c, amounts, &total), "amounts: out of range is false");
}

/* Several single-use codes of one benefit: each covers its units; a code not needed is refused. */
static void
test_code_units(void)
{
	PriceBenefit b[3];
	int			ok[3];
	PriceRefusal refusals[8];
	int			nrefusals = 0;
	int			nok;

	for (int k = 0; k < 3; k++)
	{
		b[k] = benefit(7, "su", "ok");
		b[k].code_units = 1;
	}
	b[0].su_code = "A";
	b[1].su_code = "B";
	b[2].su_code = "C";
	nok = price_usable(b, 3, ok);
	check(nok == 1 && b[0].ncodes == 3 && b[0].cover == 3, "three codes of one unit: one benefit covering 3 units");
	b[0].cover -= 2;
	b[0].taken = 2;
	b[0].tried = true;
	price_code_units(b, 3, refusals, &nrefusals);
	check(b[0].covered == 1 && b[1].covered == 1 && b[2].covered == 0, "2 units taken: the first two codes cover one each");
	check(nrefusals == 1 && strcmp(refusals[0].reason, "code_not_needed") == 0 && refusals[0].line == 0,
		  "the third code is refused: code_not_needed");

	nrefusals = 0;
	b[0] = benefit(7, "su", "ok");
	b[1] = benefit(7, "su", "ok");
	b[0].su_code = "A";
	b[1].su_code = "B";
	nok = price_usable(b, 2, ok);
	check(nok == 1 && b[0].cover == -1, "codes covering any number: no cover limit");
	b[0].taken = 5;
	b[0].tried = true;
	price_code_units(b, 2, refusals, &nrefusals);
	check(b[0].covered == 5 && b[1].covered == 0 && nrefusals == 1, "the first code covers all 5 units, the second is not needed");
}

int
main(void)
{
	test_code_units();
	test_usable();
	test_form();
	test_candidates();
	test_choice();
	test_performance_quota();
	test_untried_and_amounts();
	return check_summary("test_tariff_choice");
}
