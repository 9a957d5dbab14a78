/*-------------------------------------------------------------------------
 *
 * money_sql.c
 *		SQL-callable wrappers of the pure-C money arithmetic (money.c): the
 *		unit price of a tariff row, a basket discount, and its allocation
 *		across lines to the cent.
 *
 * Percentages arrive as basis points (hundredths of a percent): the tables
 * allow at most two decimals, so percent_off * 100 is exact.  An amount
 * outside what money.c handles is a 22003 error, never a wrong price.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "catalog/pg_type.h"
#include "fmgr.h"
#include "utils/array.h"

#include "money.h"
#include "money_sql.h"

/*
 * Raises 22003 for an amount or percentage outside what money.c handles:
 * never a wrong price.
 */
void
benefit_money_out_of_range(const char *what)
{
	ereport(ERROR,
			errcode(ERRCODE_NUMERIC_VALUE_OUT_OF_RANGE),
			errmsg("%s out of range", what),
			errdetail("Amounts must be between 0 and %lld cents, percentages between 0 and 100.",
					  (long long) BM_MAX_CENTS));
}

PG_FUNCTION_INFO_V1(benefit_money_unit_price);

/*
 * money_unit_price(base_cents, price_cents, amount_off_cents, percent_off_bp):
 * the unit price a tariff row gives; exactly one of the last three is set.
 */
Datum
benefit_money_unit_price(PG_FUNCTION_ARGS)
{
	int64		base;
	int64		out;
	BMForm		form;
	int64		value;
	int			set = 0;

	if (PG_ARGISNULL(0))
		PG_RETURN_NULL();
	base = PG_GETARG_INT64(0);
	for (int i = 1; i <= 3; i++)
		if (!PG_ARGISNULL(i))
			set++;
	if (set != 1)
		ereport(ERROR,
				errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				errmsg("exactly one of price_cents, amount_off_cents and percent_off_bp must be set"));
	if (!PG_ARGISNULL(1))
	{
		form = BM_FIXED_PRICE;
		value = PG_GETARG_INT64(1);
	}
	else if (!PG_ARGISNULL(2))
	{
		form = BM_AMOUNT_OFF;
		value = PG_GETARG_INT64(2);
	}
	else
	{
		form = BM_PERCENT_OFF;
		value = PG_GETARG_INT64(3);
	}
	if (!bm_unit_price(base, form, value, &out))
		benefit_money_out_of_range("price");
	PG_RETURN_INT64(out);
}

PG_FUNCTION_INFO_V1(benefit_money_basket_discount);

/*
 * money_basket_discount(total_cents, amount_off_cents, percent_off_bp): a
 * promo code's discount on a basket total, never more than the total.
 */
Datum
benefit_money_basket_discount(PG_FUNCTION_ARGS)
{
	int64		out;
	bool		ok;

	if (PG_ARGISNULL(0))
		PG_RETURN_NULL();
	if (PG_ARGISNULL(1) == PG_ARGISNULL(2))
		ereport(ERROR,
				errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				errmsg("exactly one of amount_off_cents and percent_off_bp must be set"));
	if (!PG_ARGISNULL(1))
		ok = bm_basket_discount(PG_GETARG_INT64(0), BM_AMOUNT_OFF, PG_GETARG_INT64(1), &out);
	else
		ok = bm_basket_discount(PG_GETARG_INT64(0), BM_PERCENT_OFF, PG_GETARG_INT64(2), &out);
	if (!ok)
		benefit_money_out_of_range("discount");
	PG_RETURN_INT64(out);
}

PG_FUNCTION_INFO_V1(benefit_money_allocate);

/*
 * money_allocate(discount_cents, weights bigint[]) -> bigint[]: the discount
 * split across lines in proportion to the weights (line amounts), largest
 * remainder first, ties to the earlier line; the parts add up exactly.
 */
Datum
benefit_money_allocate(PG_FUNCTION_ARGS)
{
	int64		discount;
	ArrayType  *arr;
	Datum	   *elems;
	bool	   *nulls;
	int			n;
	int64	   *weights;
	int64	   *parts;
	Datum	   *out;

	if (PG_ARGISNULL(0) || PG_ARGISNULL(1))
		PG_RETURN_NULL();
	discount = PG_GETARG_INT64(0);
	arr = PG_GETARG_ARRAYTYPE_P(1);
	if (ARR_NDIM(arr) > 1)
		ereport(ERROR,
				errcode(ERRCODE_ARRAY_SUBSCRIPT_ERROR),
				errmsg("weights must be a one-dimensional array"));
	deconstruct_array(arr, INT8OID, sizeof(int64), true, TYPALIGN_DOUBLE, &elems, &nulls, &n);
	weights = palloc(sizeof(int64) * Max(n, 1));
	parts = palloc(sizeof(int64) * Max(n, 1));
	out = palloc(sizeof(Datum) * Max(n, 1));
	for (int i = 0; i < n; i++)
	{
		if (nulls[i])
			ereport(ERROR,
					errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
					errmsg("weights must not contain NULL"));
		weights[i] = DatumGetInt64(elems[i]);
	}
	if (!bm_allocate(discount, weights, (size_t) n, parts))
		ereport(ERROR,
				errcode(ERRCODE_NUMERIC_VALUE_OUT_OF_RANGE),
				errmsg("cannot allocate a discount of " INT64_FORMAT " cents", discount),
				errdetail("The discount must be between 0 and the sum of the weights, every weight between 0 and %lld.",
						  (long long) BM_MAX_CENTS));
	for (int i = 0; i < n; i++)
		out[i] = Int64GetDatum(parts[i]);
	PG_RETURN_ARRAYTYPE_P(construct_array(out, n, INT8OID, sizeof(int64), true, TYPALIGN_DOUBLE));
}
