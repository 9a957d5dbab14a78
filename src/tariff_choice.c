/*-------------------------------------------------------------------------
 *
 * tariff_choice.c
 *		The choice of a tariff for each line of a basket (see
 *		tariff_choice.h).  Plain C99, no PostgreSQL headers: unit-tested by
 *		test/unit.
 *
 *-------------------------------------------------------------------------
 */
#include "tariff_choice.h"

#include <stdlib.h>
#include <string.h>

/* Appends a refusal. */
void
price_add_refusal(PriceRefusal *refusals, int *n, int line, int64_t benefit_id,
				  const char *benefit_code, const char *entered, const char *reason)
{
	refusals[*n].line = line;
	refusals[*n].benefit_id = benefit_id;
	refusals[*n].benefit_code = benefit_code;
	refusals[*n].entered = entered;
	refusals[*n].reason = reason;
	(*n)++;
}

/* The usable benefits, each benefit id once. */
int
price_usable(PriceBenefit *benefits, int n, int *ok)
{
	int			nok = 0;

	for (int r = 0; r < n; r++)
	{
		PriceBenefit *b = &benefits[r];
		bool		dup = false;

		b->first = -1;
		b->ncodes = 0;
		b->cover = -1;
		b->taken = 0;
		b->covered = 0;
		if (strcmp(b->reason, "ok") != 0)
			continue;
		for (int k = 0; k < nok; k++)
			if (benefits[ok[k]].id == b->id)
			{
				PriceBenefit *f = &benefits[ok[k]];

				/* the same benefit twice (two codes of it): one benefit, its codes together */
				if (f->su_code == NULL)
				{
					f->su_code = b->su_code;
					f->ncodes = b->su_code != NULL;
				}
				else if (b->su_code != NULL)
				{
					f->ncodes++;
					b->first = ok[k];
				}
				if (f->entered == NULL)
					f->entered = b->entered;
				dup = true;
				break;
			}
		if (!dup)
		{
			b->ncodes = b->su_code != NULL;
			ok[nok++] = r;
		}
	}
	for (int k = 0; k < nok; k++)
	{
		PriceBenefit *f = &benefits[ok[k]];

		if (f->ncodes > 0 && f->code_units >= 0)
			f->cover = f->code_units * f->ncodes;
	}
	return nok;
}

/* The index of a usable benefit by id. */
int
price_benefit_index(const PriceBenefit *benefits, const int *ok, int nok, int64_t id)
{
	for (int k = 0; k < nok; k++)
		if (benefits[ok[k]].id == id)
			return ok[k];
	return -1;
}

/* Refuses every benefit eligibility refused, with its reason. */
void
price_refuse_unusable(const PriceBenefit *benefits, int n, PriceRefusal *refusals, int *nrefusals)
{
	for (int r = 0; r < n; r++)
		if (strcmp(benefits[r].reason, "ok") != 0)
			price_add_refusal(refusals, nrefusals, 0, benefits[r].id, benefits[r].code, benefits[r].entered,
							  benefits[r].reason);
}

/* The form of a tariff row from its three columns. */
void
price_tariff_form(bool price_null, int64_t price_cents, bool amount_null, int64_t amount_off,
				  bool percent_null, int64_t percent_bp, BMForm *form, int64_t *value)
{
	if (!price_null)
	{
		*form = BM_FIXED_PRICE;
		*value = price_cents;
	}
	else if (!amount_null)
	{
		*form = BM_AMOUNT_OFF;
		*value = amount_off;
	}
	else
	{
		*form = BM_PERCENT_OFF;
		*value = percent_null ? 0 : percent_bp;
	}
}

/* Orders candidates by line, then unit price, then benefit id. */
static int
candidate_cmp(const void *a, const void *b)
{
	const PriceCandidate *x = a;
	const PriceCandidate *y = b;

	if (x->line != y->line)
		return x->line < y->line ? -1 : 1;
	if (x->unit != y->unit)
		return x->unit < y->unit ? -1 : 1;
	if (x->benefit_id != y->benefit_id)
		return x->benefit_id < y->benefit_id ? -1 : 1;
	return 0;
}

/* The candidates of the lines, in the order of the choice. */
int
price_candidates(const PriceLine *lines, int n, const PriceTariff *rows, const BMDims *dims,
				 int nrows, int *run, PriceBenefit *benefits, PriceCandidate *cands)
{
	int			nruns = 0;
	int			ncands = 0;

	/* the runs of rows of one benefit and product: run k is rows[run[k]..run[k + 1]) */
	for (int r = 0; r < nrows; r++)
		if (r == 0 || rows[r].benefit != rows[r - 1].benefit || rows[r].product_id != rows[r - 1].product_id)
			run[nruns++] = r;
	run[nruns] = nrows;

	/*
	 * Each line against each run of its product: the run's most specific
	 * row that fits the line is a candidate.  A line has one product, so at
	 * most one run of each benefit fits it.
	 */
	for (int i = 0; i < n; i++)
	{
		for (int k = 0; k < nruns; k++)
		{
			int			m;
			PriceCandidate *c;

			if (rows[run[k]].product_id != lines[i].product_id)
				continue;
			m = bm_match_tariff(&dims[run[k]], (size_t) (run[k + 1] - run[k]), &lines[i].dims);
			if (m < 0)
				continue;
			m += run[k];
			c = &cands[ncands];
			c->line = i;
			c->benefit = rows[m].benefit;
			c->benefit_id = benefits[rows[m].benefit].id;
			c->tariff_id = rows[m].tariff_id;
			if (!bm_unit_price(lines[i].base, rows[m].form, rows[m].value, &c->unit))
				return -1;
			benefits[rows[m].benefit].tried = true;
			ncands++;
		}
	}
	if (ncands > 1)
		qsort(cands, (size_t) ncands, sizeof(PriceCandidate), candidate_cmp);
	return ncands;
}

/*
 * The units of benefit b left on performance_id, found in perf[0..*nperf)
 * or added to it from the figures used[0..nused).
 */
static PricePerfLeft *
perf_left(const PriceBenefit *b, int64_t performance_id, const PricePerfUsed *used, int nused,
		  PricePerfLeft *perf, int *nperf)
{
	PricePerfLeft *p;
	int64_t		taken = 0;

	for (int j = 0; j < *nperf; j++)
		if (perf[j].benefit_id == b->id && perf[j].performance_id == performance_id)
			return &perf[j];
	for (int j = 0; j < nused; j++)
		if (used[j].benefit_id == b->id && used[j].performance_id == performance_id)
		{
			taken = used[j].used;
			break;
		}
	p = &perf[(*nperf)++];
	p->benefit_id = b->id;
	p->performance_id = performance_id;
	p->left = b->perf_quota - taken;
	return p;
}

/* The choice: cheapest first, the first that fits the quotas left wins the line. */
void
price_choose(PriceLine *lines, PriceBenefit *benefits, const PriceCandidate *cands, int ncands,
			 const PricePerfUsed *used, int nused, PricePerfLeft *perf,
			 PriceRefusal *refusals, int *nrefusals)
{
	int			nperf = 0;

	for (int k = 0; k < ncands; k++)
	{
		const PriceCandidate *c = &cands[k];
		PriceBenefit *b = &benefits[c->benefit];
		PriceLine  *l = &lines[c->line];
		const char *refusal = NULL;
		PricePerfLeft *p = NULL;

		if (c->unit >= l->base)
			refusal = "price_not_lower";
		else if (l->chosen >= 0)
			refusal = "not_best";
		else if (b->cover >= 0 && b->cover < l->quantity)
			refusal = "code_units_exhausted";
		else if (b->left >= 0 && b->left < l->quantity)
			refusal = "quota_exhausted";
		else if (b->cleft >= 0 && b->cleft < l->quantity)
			refusal = "contact_quota_exhausted";
		else if (b->perf_quota >= 0 && !l->dims.performance_any)
		{
			p = perf_left(b, l->dims.performance_id, used, nused, perf, &nperf);
			if (p->left < l->quantity)
				refusal = "performance_quota_exhausted";
		}
		if (refusal != NULL)
		{
			price_add_refusal(refusals, nrefusals, c->line + 1, b->id, b->code, b->entered, refusal);
			continue;
		}
		if (p != NULL)
			p->left -= l->quantity;
		if (b->left >= 0)
			b->left -= l->quantity;
		if (b->cleft >= 0)
			b->cleft -= l->quantity;
		if (b->cover >= 0)
			b->cover -= l->quantity;
		b->taken += l->quantity;
		l->chosen = k;
	}
}

/* Refuses the codes that unlocked a benefit with no tariff row for any line. */
void
price_refuse_untried(const PriceBenefit *benefits, const int *ok, int nok,
					 PriceRefusal *refusals, int *nrefusals)
{
	for (int k = 0; k < nok; k++)
		if (benefits[ok[k]].entered != NULL && !benefits[ok[k]].tried)
			price_add_refusal(refusals, nrefusals, 0, benefits[ok[k]].id, benefits[ok[k]].code,
							  benefits[ok[k]].entered, "no_tariff");
}

/* The lines' amounts after benefits and their sum. */
bool
price_line_amounts(const PriceLine *lines, int n, const PriceCandidate *cands,
				   int64_t *amounts, int64_t *total)
{
	*total = 0;
	for (int i = 0; i < n; i++)
	{
		int64_t		unit = lines[i].chosen >= 0 ? cands[lines[i].chosen].unit : lines[i].base;

		if (!bm_multiply(unit, lines[i].quantity, &amounts[i]))
			return false;
		*total += amounts[i];
	}
	return true;
}

/* The units each usable code covers, in entry order; a later code not needed is refused. */
void
price_code_units(PriceBenefit *benefits, int n, PriceRefusal *refusals, int *nrefusals)
{
	for (int r = 0; r < n; r++)
	{
		PriceBenefit *b = &benefits[r];
		PriceBenefit *f = b->first >= 0 ? &benefits[b->first] : b;
		int64_t		before = 0;

		if (b->su_code == NULL || strcmp(b->reason, "ok") != 0)
			continue;
		/* the units the codes of the same benefit entered before this one cover */
		for (int q = 0; q < r; q++)
			if (benefits[q].su_code != NULL && strcmp(benefits[q].reason, "ok") == 0
				&& (q == (b->first >= 0 ? b->first : r) || benefits[q].first == (b->first >= 0 ? b->first : r)))
				before += benefits[q].covered;
		if (f->code_units < 0)
			b->covered = before == 0 ? f->taken : 0;
		else
		{
			int64_t		rest = f->taken - before;

			b->covered = rest <= 0 ? 0 : (rest < f->code_units ? rest : f->code_units);
		}
		if (b->covered == 0 && b->first >= 0)
			price_add_refusal(refusals, nrefusals, 0, b->id, f->code, b->entered,
							  f->tried ? "code_not_needed" : "no_tariff");
	}
}
