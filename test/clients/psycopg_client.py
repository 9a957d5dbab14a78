#!/usr/bin/env python3
"""test/clients/psycopg_client.py: benefit from Python with psycopg 3, as an
application uses it.

Run by test/clients/run, once per login, connected through the PG*
environment variables (PGUSER is a login granted only the one role):

    psycopg_client.py sales    codes typed as Python str parameters, a basket
                               priced, held and confirmed with typed arguments
    psycopg_client.py report   the reporting views, codes compared by parameter

CLIENTS_FIXTURE names the JSON file the runner wrote as superuser: the
single-use codes issued for "ce-alpina", the catalogue ids of the basket, a
contact.  Prints one line per check, "ok - ..." or "not ok - ..." (the runner
numbers them into TAP), diagnostics as "# ...", and "# end: ..." once it has
run every check; exits 1 when a check failed.
Every statement runs in its own transaction (autocommit), so a failure does
not hide the checks after it.
"""
import json
import os
import sys
from datetime import datetime, timedelta, timezone

import psycopg
from psycopg.rows import dict_row
from psycopg.types.composite import CompositeInfo, register_composite

fixture = json.load(open(os.environ["CLIENTS_FIXTURE"], encoding="utf-8"))
codes = fixture["codes"]  # this client uses codes[0] to codes[5]
checks = failures = 0


def check(description, run, want):
    """Prints ok when run() returns want; an error counts as "SQLSTATE xxxxx"."""
    global checks, failures
    checks += 1
    try:
        got = run()
    except psycopg.Error as e:
        got = f"SQLSTATE {e.sqlstate}"
        message = str(e).splitlines()[0] if str(e) else ""
    else:
        message = ""
    if got == want:
        print(f"ok - {description}")
        return
    failures += 1
    print(f"not ok - {description}")
    print(f"#   got:  {got!r} {message}".rstrip())
    print(f"#   want: {want!r}")


def typed(code):
    """The code as a buyer types it: lower case, spaces instead of hyphens."""
    return code.lower().replace("-", " ")


def mistyped(code):
    """The code with its check character changed: a typing mistake."""
    return code[:-1] + ("X" if code[-1] != "X" else "Y")


def sales(conn):
    one = lambda sql, params=None: conn.execute(sql, params).fetchone()
    later = datetime.now(timezone.utc) + timedelta(minutes=15)

    # The "Code avantage" box: free text in, a kind and a reason out.
    check("enter_code: a single-use code typed in lower case with spaces",
          lambda: one("SELECT kind, reason, benefit_code FROM benefit.enter_code(%s, %s, %s, %s, %s)",
                      (typed(codes[0]), "web", "shop", None, "py-session")),
          ("single_use", "ok", "ce-alpina"))
    check("enter_code: the partner access code in any case",
          lambda: one("SELECT kind, reason, benefit_code FROM benefit.enter_code(%s, %s, %s, %s, %s)",
                      ("beaurivage26", "web", None, None, "py-session")),
          ("partner", "ok", "hotel-beau-rivage"))
    check("enter_code: a mistyped code is an unknown code, not an error",
          lambda: one("SELECT reason FROM benefit.enter_code(%s, %s, %s, %s, %s)",
                      (mistyped(codes[0]), "web", "shop", None, "py-session")),
          ("unknown_code",))
    check("is_valid_code: true for a code, false for a mistyped one",
          lambda: one("SELECT benefit.is_valid_code(%s), benefit.is_valid_code(%s)", (codes[0], mistyped(codes[0]))),
          (True, False))

    # A code as a str parameter: psycopg sends it untyped (%s) or, bound in
    # binary (%b), as text; either way the cast reads it.
    check("%s::benefit.code with a str parameter gives the canonical code",
          lambda: one("SELECT %s::benefit.code", (typed(codes[0]),)), (codes[0],))
    check("%b::benefit.code: a str parameter typed text, cast to benefit.code (code_in)",
          lambda: one("SELECT %b::benefit.code", (typed(codes[0]),)), (codes[0],))
    check("%s::benefit.code::text: a code cast back to text (code_out)",
          lambda: one("SELECT %s::benefit.code::text", (typed(codes[0]),)), (codes[0],))
    check("a binary cursor reads a code in its binary form (code_send: format byte, 8 bytes)",
          lambda: len(conn.cursor(binary=True).execute("SELECT %s::benefit.code", (codes[0],)).fetchone()[0]), 9)
    check("%s::benefit.code with a mistyped code is 22P02",
          lambda: one("SELECT %s::benefit.code", (mistyped(codes[0]),)), "SQLSTATE 22P02")

    # redeem_code: the code as %s::benefit.code, as a plain %s, as text.
    redeem = "SELECT reason, code::text, benefit_code FROM benefit.redeem_code({}, %s, %s, 'web', 'shop', 'py-session')"
    check("redeem_code(%s::benefit.code, ...) uses the code",
          lambda: one(redeem.format("%s::benefit.code"), (typed(codes[1]), None, "PY-R1")),
          ("ok", codes[1], "ce-alpina"))
    check("redeem_code(%s, ...): a plain str parameter for the benefit.code argument",
          lambda: one(redeem.format("%s"), (codes[2], None, "PY-R2")), ("ok", codes[2], "ce-alpina"))
    check("redeem_code(%b::benefit.code, ...): a text parameter cast to benefit.code",
          lambda: one(redeem.format("%b::benefit.code"), (codes[3], None, "PY-R3")), ("ok", codes[3], "ce-alpina"))
    check("redeem_code of a used code: already_used",
          lambda: one(redeem.format("%s"), (codes[1], None, "PY-R4")), ("already_used", codes[1], "ce-alpina"))
    check("record_ticket with the code as a plain str parameter, then ticket_scanned",
          lambda: one("SELECT benefit.record_ticket(%s, %s, %s, %s), benefit.ticket_scanned(%s)",
                      ("PY-T1", "PY-R1", fixture["alpina"], codes[1], "PY-T1")),
          ("PY-T1", True))

    # Baskets with typed arguments: benefit.basket_line as a registered
    # composite type (a Python class), built in SQL with ROW(...), or as a
    # text literal of the array.
    info = CompositeInfo.fetch(conn, "benefit.basket_line")
    register_composite(info, conn)
    BasketLine = info.python_type
    lines = [BasketLine(fixture["cyrano"], None, fixture["stalls"], fixture["adult"], 2, None)]
    price = "SELECT b.base_cents, b.total_cents, (b.lines[1]).benefit_code FROM benefit.price_basket({}, %s, %s, %s, %s, %s) b"
    check("price_basket: a list of BasketLine objects, no code: catalogue price",
          lambda: one(price.format("%s"), (lines, None, "web", "shop", None, None)), (8400, 8400, None))
    check("price_basket: a list of BasketLine objects and a code in a list of str: the code's price",
          lambda: one(price.format("%s"), (lines, None, "web", "shop", None, [typed(codes[4])])), (8400, 5000, "ce-alpina"))
    check("price_basket: lines built in SQL with ROW(...)::benefit.basket_line",
          lambda: one(price.format("ARRAY[ROW(%s, NULL, %s, %s, 2, NULL)::benefit.basket_line]"),
                      (fixture["cyrano"], fixture["stalls"], fixture["adult"], None, "web", "shop", None, [codes[4]])),
          (8400, 5000, "ce-alpina"))
    check("price_basket: lines as a text literal cast to benefit.basket_line[]",
          lambda: one(price.format("%s::benefit.basket_line[]"),
                      ('{"(%d,,%d,%d,2,)"}' % (fixture["cyrano"], fixture["stalls"], fixture["adult"]),
                       None, "web", "shop", None, [codes[4]])),
          (8400, 5000, "ce-alpina"))

    hold = ("SELECT reason, total_cents, promo_code FROM benefit.hold(%s, %s, %s, %s, %s, %s, %s, %s, %s)")
    check("hold: typed lines, a contact, a datetime deadline, a code and a promo code",
          lambda: one(hold, ("PY-H1", lines, fixture["contact"], "web", later, [codes[4]], "BIENVENUE10", "shop", "py-session")),
          ("ok", 4500, "BIENVENUE10"))
    check("confirm the hold", lambda: one("SELECT benefit.confirm(%s)", ("PY-H1",)), ("ok",))
    check("confirm again: still ok", lambda: one("SELECT benefit.confirm(%s)", ("PY-H1",)), ("ok",))
    check("hold another code, named arguments",
          lambda: one("SELECT reason, total_cents FROM benefit.hold(order_ref => %s, lines => %s, contact_id => NULL,"
                      " channel => 'web', held_until => %s, codes => %s, point_of_sale => 'shop')",
                      ("PY-H2", lines, later, [codes[5]])),
          ("ok", 5000))
    check("release that hold", lambda: one("SELECT benefit.release(%s)", ("PY-H2",)), ("ok",))

    check("the sales login cannot list codes (42501)",
          lambda: one("SELECT count(*) FROM benefit.single_use_code"), "SQLSTATE 42501")


def report(conn):
    one = lambda sql, params=None: conn.execute(sql, params).fetchone()
    conn.row_factory = dict_row
    pick = lambda row, *keys: tuple(row[k] for k in keys) if row else None

    # The sales client used codes[1], [2], [3] (redeem_code) and [4] (hold,
    # confirm), held and released [5], and recorded a ticket for [1], scanned.
    check("code_dashboard: SELECT * (codes used, held, left; tickets issued and scanned)",
          lambda: pick(one("SELECT * FROM benefit.code_dashboard WHERE benefit = 'ce-alpina'"),
                       "organisation", "codes_generated", "codes_used", "codes_held", "codes_invalidated", "codes_left",
                       "tickets_issued", "tickets_scanned"),
          ("CE Alpina SA", len(codes), 4, 0, 0, len(codes) - 4, 1, 1))
    check("code_tracking WHERE code OPERATOR(benefit.=) %s::benefit.code: SELECT *",
          lambda: pick(one("SELECT * FROM benefit.code_tracking WHERE code OPERATOR(benefit.=) %s::benefit.code",
                           (typed(codes[1]),)),
                       "code", "state", "used_order", "tickets_issued", "tickets_scanned"),
          (codes[1], "used", "PY-R1", 1, 1))
    check("code_tracking WHERE code OPERATOR(benefit.=) %b::benefit.code (a text parameter)",
          lambda: pick(one("SELECT * FROM benefit.code_tracking WHERE code OPERATOR(benefit.=) %b::benefit.code",
                           (codes[2],)), "state", "used_order"),
          ("used", "PY-R2"))
    check("code_tracking WHERE code OPERATOR(benefit.<>) %s::benefit.code",
          lambda: one("SELECT count(*) AS n FROM benefit.code_tracking WHERE code OPERATOR(benefit.<>) %s::benefit.code",
                      (codes[1],))["n"],
          len(codes) - 1)
    conn.execute("SET search_path = \"$user\", public, benefit")
    check("with benefit on the search_path: WHERE code = %s (a plain str parameter)",
          lambda: pick(one("SELECT * FROM benefit.code_tracking WHERE code = %s", (typed(codes[4]),)), "state", "used_order"),
          ("used", "PY-H1"))
    check("with benefit on the search_path: WHERE code = %s::benefit.code and code <> ...",
          lambda: one("SELECT count(*) FILTER (WHERE code = %s::benefit.code) AS eq,"
                      " count(*) FILTER (WHERE code <> %s::benefit.code) AS ne FROM benefit.code_tracking",
                      (codes[3], codes[3])),
          {"eq": 1, "ne": len(codes) - 1})
    check("codes sort, group and compare: ORDER BY code, count(DISTINCT code), code IN (...)",
          lambda: (conn.execute("SELECT code::text FROM benefit.code_tracking ORDER BY code").fetchall()
                   == [{"code": c} for c in sorted(codes)],
                   one("SELECT count(DISTINCT code) AS n FROM benefit.code_tracking")["n"],
                   one("SELECT count(*) AS n FROM benefit.code_tracking WHERE code IN (%s, %s)", (codes[1], codes[2]))["n"]),
          (True, len(codes), 2))
    conn.execute("RESET search_path")
    check("code_tracking: the released code is issued again",
          lambda: pick(one("SELECT * FROM benefit.code_tracking WHERE code OPERATOR(benefit.=) %s::benefit.code", (codes[5],)),
                       "state", "hold_order"),
          ("issued", None))
    # the confirmed hold sold 2 units with the benefit and the three
    # redemptions 2 each (an Alpina voucher is for two seats: units_per_code);
    # left is what the quota leaves after held and used units
    check("benefit_usage: SELECT *",
          lambda: (lambda r: (r["quota_total"], r["held"], r["units_sold"], r["left"] == r["quota_total"] - r["held"] - r["used"]))(
              one("SELECT * FROM benefit.benefit_usage WHERE code = 'ce-alpina'")),
          (500, 0, 8, True))
    check("promo_usage: SELECT *",
          lambda: pick(one("SELECT * FROM benefit.promo_usage WHERE code = 'BIENVENUE10'"), "held", "used", "discount_cents"),
          (0, 1, 500))
    check("the report login cannot redeem a code (42501)",
          lambda: one("SELECT * FROM benefit.redeem_code(%s, NULL, 'PY-R5')", (codes[6],)), "SQLSTATE 42501")


def main():
    part = sys.argv[1] if len(sys.argv) == 2 else ""
    if part not in ("sales", "report"):
        sys.exit("usage: psycopg_client.py sales|report")
    with psycopg.connect("", autocommit=True) as conn:
        print(f"# psycopg {psycopg.__version__} ({psycopg.pq.__impl__}), libpq {psycopg.pq.version()}, "
              f"connected as {conn.execute('SELECT current_user').fetchone()[0]}")
        (sales if part == "sales" else report)(conn)
    print(f"# end: {checks} checks, {failures} failed")
    sys.exit(1 if failures else 0)


if __name__ == "__main__":
    main()
