/*-------------------------------------------------------------------------
 *
 * order_open.c
 *		benefit_internal.track_open_order, the trigger that keeps
 *		benefit.order_open (the open holds by deadline) in step with
 *		benefit.order_hold: a hold opened, its deadline moved, the order
 *		closed (sql/src/22_order_maintenance.sql).
 *
 * The WHEN clauses of its two triggers let it fire only for an inserted
 * open hold and for an update that opens, closes or moves one.  It runs one
 * kept statement, with pg_catalog as the only schema searched, as the
 * extension's owner (SECURITY DEFINER): the roles that hold and confirm
 * cannot write benefit.order_open themselves.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "catalog/pg_type.h"
#include "commands/trigger.h"
#include "executor/spi.h"
#include "fmgr.h"
#include "utils/rel.h"

#include "search_path.h"
#include "spi_util.h"

static BenefitPlans plans;
static SPIPlanPtr plan_close;
static SPIPlanPtr plan_move;
static SPIPlanPtr plan_open;

/* Prepares the statements of this file (the plan rule of spi_util.h). */
static void
make_plans(BenefitPlans *set, Oid made_for)
{
	Oid			t_ref[1] = {TEXTOID};
	Oid			t_ref_until[2] = {TEXTOID, TIMESTAMPTZOID};

	plan_close = benefit_plans_keep(set,
		"DELETE FROM benefit.order_open p WHERE p.order_ref = $1",
		1, t_ref);
	plan_move = benefit_plans_keep(set,
		"UPDATE benefit.order_open p SET held_until = $2 WHERE p.order_ref = $1",
		2, t_ref_until);
	plan_open = benefit_plans_keep(set,
		"INSERT INTO benefit.order_open (order_ref, held_until) VALUES ($1, $2)",
		2, t_ref_until);
}

/* Whether the order_hold row tuple is an open hold (state held). */
static bool
is_held(HeapTuple tuple, TupleDesc desc, int state_att)
{
	char	   *state = SPI_getvalue(tuple, desc, state_att);

	return state != NULL && strcmp(state, "held") == 0;
}

PG_FUNCTION_INFO_V1(benefit_track_open_order);

/* Trigger AFTER INSERT OR UPDATE ON benefit.order_hold FOR EACH ROW. */
Datum
benefit_track_open_order(PG_FUNCTION_ARGS)
{
	TriggerData *td = (TriggerData *) fcinfo->context;
	TupleDesc	desc;
	HeapTuple	new_tuple;
	int			ref_att;
	int			state_att;
	int			until_att;
	Datum		args[2];
	bool		isnull;
	SPIPlanPtr	plan;
	int			ret;

	if (!CALLED_AS_TRIGGER(fcinfo) || !TRIGGER_FIRED_AFTER(td->tg_event) || !TRIGGER_FIRED_FOR_ROW(td->tg_event)
		|| TRIGGER_FIRED_BY_DELETE(td->tg_event) || TRIGGER_FIRED_BY_TRUNCATE(td->tg_event))
		elog(ERROR, "track_open_order must be an AFTER INSERT OR UPDATE row trigger");
	desc = RelationGetDescr(td->tg_relation);
	new_tuple = TRIGGER_FIRED_BY_UPDATE(td->tg_event) ? td->tg_newtuple : td->tg_trigtuple;
	ref_att = SPI_fnumber(desc, "order_ref");
	state_att = SPI_fnumber(desc, "state");
	until_att = SPI_fnumber(desc, "held_until");
	if (ref_att <= 0 || state_att <= 0 || until_att <= 0)
		elog(ERROR, "track_open_order is on a table without order_ref, state and held_until");

	args[0] = heap_getattr(new_tuple, ref_att, desc, &isnull);
	args[1] = heap_getattr(new_tuple, until_att, desc, &isnull);

	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	benefit_push_search_path();
	benefit_plans_get(&plans, benefit_code_type_oid(), make_plans);
	/* closed: delisted; still open after an update: its deadline; opened: listed */
	plan = !is_held(new_tuple, desc, state_att) ? plan_close
		: (TRIGGER_FIRED_BY_UPDATE(td->tg_event) && is_held(td->tg_trigtuple, desc, state_att)) ? plan_move
		: plan_open;
	ret = SPI_execute_plan(plan, args, NULL, false, 0);
	if (ret < 0)
		elog(ERROR, "keeping benefit.order_open failed: %s", SPI_result_code_string(ret));
	benefit_pop_search_path();
	SPI_finish();
	return PointerGetDatum(NULL);
}
