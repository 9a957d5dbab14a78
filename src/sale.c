/*-------------------------------------------------------------------------
 *
 * sale.c
 *		The references of a runtime call, checked in one place: its sales
 *		channel (by code), its web point of sale (by code, on that channel)
 *		and its contact (by id).  A bad one is an error, never ignored: an
 *		unknown contact is not an anonymous buyer, an unknown point of sale
 *		is not "no point of sale".
 *
 * The C entry points (redeem_code in redeem.c) call benefit_check_sale
 * inside their SPI connection; the SQL and PL/pgSQL ones call
 * benefit_internal.resolve_sale, which is the same function; price and
 * available check the channel and point of sale with
 * benefit_check_sale_refs and read the contact with the buyer's other rows
 * (eligibility.c).  The channel and point of sale come from the
 * configuration cache (config.c), the contact from one statement.  In a
 * database not yet updated (ALTER EXTENSION benefit UPDATE), which has no
 * cache, one statement reads all three, on tables every released version
 * has.  The statements run with pg_catalog as the only schema searched,
 * pushed here for every caller.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/htup_details.h"
#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "fmgr.h"
#include "mb/pg_wchar.h"
#include "funcapi.h"
#include "utils/builtins.h"

#include "config.h"
#include "sale.h"
#include "search_path.h"
#include "spi_util.h"

static BenefitPlans plans;
static SPIPlanPtr plan_sale;
static SPIPlanPtr plan_contact;

/* Prepares the statement of this file (the plan rule of spi_util.h). */
static void
make_plans(BenefitPlans *set, Oid made_for)
{
	Oid			types[3] = {TEXTOID, TEXTOID, INT8OID};

	plan_sale = benefit_plans_keep(set,
		"SELECT sc.channel_id, sc.kind, p.point_of_sale_id, p.channel_id, pc.code, "
		"       $3::pg_catalog.int8 IS NULL "
		"       OR EXISTS (SELECT 1 FROM benefit.contact c WHERE c.contact_id = $3) "
		"  FROM (SELECT 1) one "
		"  LEFT JOIN benefit.sales_channel sc ON sc.code = $1 "
		"  LEFT JOIN benefit.point_of_sale p ON p.code = $2 "
		"  LEFT JOIN benefit.sales_channel pc ON pc.channel_id = p.channel_id",
		3, types);
	plan_contact = benefit_plans_keep(set,
		"SELECT EXISTS (SELECT 1 FROM benefit.contact c WHERE c.contact_id = $1)", 1, &types[2]);
}

/* Empties sale (nothing found yet); raises 22004 for a missing channel when it is required. */
static void
sale_start(BenefitSale *sale, bool channel_null, bool channel_required)
{
	memset(sale, 0, sizeof(BenefitSale));
	sale->channel_null = true;
	sale->point_of_sale_null = true;
	if (channel_null && channel_required)
		ereport(ERROR,
				errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				errmsg("channel must not be NULL"),
				errhint("Pass the code of the sales channel the sale happens on."));
}

/* Raises P0002 for a contact id of no contact. */
void
benefit_refuse_contact(int64 contact_id)
{
	ereport(ERROR,
			errcode(ERRCODE_NO_DATA_FOUND),
			errmsg("contact " INT64_FORMAT " does not exist", contact_id),
			errhint("Pass NULL as contact_id for an anonymous buyer."));
}

/*
 * The channel and point of sale of a call, from the configuration cache
 * (config.h): the checks of benefit_check_sale but the contact's.
 */
void
benefit_check_sale_refs(const BenefitConfig *cfg, Datum channel, bool channel_null, Datum point_of_sale,
						bool point_of_sale_null, bool channel_required, BenefitSale *sale)
{
	sale_start(sale, channel_null, channel_required);
	if (!channel_null)
	{
		char	   *code = TextDatumGetCString(channel);
		const CfgChannel *c = cfg_channel(cfg, code);

		if (c == NULL)
			ereport(ERROR,
					errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					errmsg("sales channel \"%s\" does not exist", code));
		sale->channel_id = c->id;
		sale->channel_kind = c->kind;
		sale->channel_web = c->web;
		sale->channel_null = false;
	}
	if (!point_of_sale_null)
	{
		char	   *code = TextDatumGetCString(point_of_sale);
		const CfgPointOfSale *p = cfg_point_of_sale(cfg, code);

		if (p == NULL)
			ereport(ERROR,
					errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					errmsg("point of sale \"%s\" does not exist", code),
					errhint("Pass the code of a web shop of the sales channel as point_of_sale, or NULL."));
		if (!channel_null && p->channel_id != sale->channel_id)
			ereport(ERROR,
					errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					errmsg("point of sale \"%s\" is not on sales channel \"%s\"",
						   code, TextDatumGetCString(channel)),
					errdetail("Point of sale \"%s\" belongs to sales channel \"%s\".", code, p->channel_code));
		sale->point_of_sale_id = p->id;
		sale->point_of_sale_null = false;
	}
}

/*
 * Checks the channel, point of sale and contact of a call and returns the
 * channel and point of sale found; raises 22004 for a missing channel when
 * it is required, 22023 for an unknown channel or point of sale or a point
 * of sale of another channel than the one given, P0002 for an unknown
 * contact.  The caller is connected to SPI.
 */
void
benefit_check_sale(Datum channel, bool channel_null, Datum point_of_sale, bool point_of_sale_null,
				   Datum contact_id, bool contact_null, bool channel_required, bool read_only,
				   BenefitSale *sale)
{
	Datum		args[3];
	char		nulls[3];
	bool		isnull;
	int64		pos_channel_id;
	int			ret;
	const BenefitConfig *cfg;

	sale_start(sale, channel_null, channel_required);
	if (channel_null && point_of_sale_null && contact_null)
		return;

	/* the channel and point of sale from the configuration cache, the contact read */
	cfg = benefit_config_pin();
	if (cfg != NULL)
	{
		benefit_check_sale_refs(cfg, channel, channel_null, point_of_sale, point_of_sale_null,
								channel_required, sale);
		benefit_config_unpin();
		if (contact_null)
			return;
		benefit_push_search_path();
		benefit_plans_get(&plans, benefit_code_type_oid(), make_plans);
		args[0] = contact_id;
		ret = SPI_execute_plan(plan_contact, args, NULL, read_only, 1);
		benefit_pop_search_path();
		if (ret != SPI_OK_SELECT || SPI_processed != 1)
			elog(ERROR, "checking the contact failed: %s", SPI_result_code_string(ret));
		if (!col_bool(0, 1))
			benefit_refuse_contact(DatumGetInt64(contact_id));
		SPI_freetuptable(SPI_tuptable);
		return;
	}

	/*
	 * pg_catalog as the only schema searched, for every caller: a kept plan
	 * is made again whenever it runs under another search_path than the one
	 * it was made under (price declares pg_catalog, pg_temp; redeem_code
	 * pushes pg_catalog).  An error unwinds the pushed path with the
	 * (sub)transaction.
	 */
	benefit_push_search_path();
	benefit_plans_get(&plans, benefit_code_type_oid(), make_plans);
	args[0] = channel;
	args[1] = point_of_sale;
	args[2] = contact_id;
	nulls[0] = channel_null ? 'n' : ' ';
	nulls[1] = point_of_sale_null ? 'n' : ' ';
	nulls[2] = contact_null ? 'n' : ' ';
	ret = SPI_execute_plan(plan_sale, args, nulls, read_only, 1);
	benefit_pop_search_path();
	if (ret != SPI_OK_SELECT || SPI_processed != 1)
		elog(ERROR, "checking the references failed: %s", SPI_result_code_string(ret));

	if (!channel_null)
	{
		sale->channel_id = col_int8(0, 1, &isnull);
		if (isnull)
			ereport(ERROR,
					errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					errmsg("sales channel \"%s\" does not exist", TextDatumGetCString(channel)));
		sale->channel_kind = col_datum(0, 2, &isnull);
		sale->channel_web = strcmp(col_text(0, 2, NULL), "web") == 0;
		sale->channel_null = false;
	}
	if (!point_of_sale_null)
	{
		sale->point_of_sale_id = col_int8(0, 3, &isnull);
		if (isnull)
			ereport(ERROR,
					errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					errmsg("point of sale \"%s\" does not exist", TextDatumGetCString(point_of_sale)),
					errhint("Pass the code of a web shop of the sales channel as point_of_sale, or NULL."));
		pos_channel_id = col_int8(0, 4, &isnull);
		if (!channel_null && pos_channel_id != sale->channel_id)
			ereport(ERROR,
					errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					errmsg("point of sale \"%s\" is not on sales channel \"%s\"",
						   TextDatumGetCString(point_of_sale), TextDatumGetCString(channel)),
					errdetail("Point of sale \"%s\" belongs to sales channel \"%s\".",
							  TextDatumGetCString(point_of_sale),
							  col_text(0, 5, NULL)));
		sale->point_of_sale_null = false;
	}
	if (!col_bool(0, 6))
		benefit_refuse_contact(DatumGetInt64(contact_id));
	SPI_freetuptable(SPI_tuptable);
}

PG_FUNCTION_INFO_V1(benefit_resolve_sale);

/*
 * resolve_sale(channel, point_of_sale, contact_id, channel_required,
 *              OUT channel_id, OUT channel_kind, OUT point_of_sale_id)
 */
Datum
benefit_resolve_sale(PG_FUNCTION_ARGS)
{
	TupleDesc	desc;
	BenefitSale sale;
	Datum		values[3];
	bool		nulls[3];

	if (get_call_result_type(fcinfo, NULL, &desc) != TYPEFUNC_COMPOSITE)
		elog(ERROR, "resolve_sale must return a composite type");
	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	benefit_check_sale(PG_ARGISNULL(0) ? (Datum) 0 : PG_GETARG_DATUM(0), PG_ARGISNULL(0),
					   PG_ARGISNULL(1) ? (Datum) 0 : PG_GETARG_DATUM(1), PG_ARGISNULL(1),
					   PG_ARGISNULL(2) ? (Datum) 0 : PG_GETARG_DATUM(2), PG_ARGISNULL(2),
					   PG_ARGISNULL(3) || PG_GETARG_BOOL(3), true, &sale);
	SPI_finish();
	/* by-value results: nothing to copy out of SPI's memory */
	values[0] = Int64GetDatum(sale.channel_id);
	nulls[0] = sale.channel_null;
	values[1] = sale.channel_kind;
	nulls[1] = sale.channel_null;
	values[2] = Int64GetDatum(sale.point_of_sale_id);
	nulls[2] = sale.point_of_sale_null;
	PG_RETURN_DATUM(HeapTupleGetDatum(heap_form_tuple(BlessTupleDesc(desc), values, nulls)));
}

/*
 * Refuses (22023) an order reference that is NULL, blank (spaces, tabs and
 * line breaks only) or longer than 200 characters: the one rule of every
 * call that takes an order reference (redeem_code here in C; hold,
 * hold_code and release_code through benefit_internal.check_order_ref).
 */
void
benefit_check_order_ref(text *order_ref)
{
	const char *s;
	int			len;
	int			i;
	bool		blank = true;

	if (order_ref != NULL)
	{
		s = VARDATA_ANY(order_ref);
		len = VARSIZE_ANY_EXHDR(order_ref);
		for (i = 0; i < len && blank; i++)
			blank = (s[i] == ' ' || s[i] == '\t' || s[i] == '\r' || s[i] == '\n');
		if (!blank && pg_mbstrlen_with_len(s, len) <= 200)
			return;
	}
	ereport(ERROR,
			errcode(ERRCODE_INVALID_PARAMETER_VALUE),
			errmsg("order_ref must be 1 to 200 characters, not blank"));
}

PG_FUNCTION_INFO_V1(benefit_check_order_ref_sql);

/* SQL benefit_internal.check_order_ref(order_ref): the same rule for the PL/pgSQL calls. */
Datum
benefit_check_order_ref_sql(PG_FUNCTION_ARGS)
{
	benefit_check_order_ref(PG_ARGISNULL(0) ? NULL : PG_GETARG_TEXT_PP(0));
	PG_RETURN_VOID();
}
