#!/usr/bin/env python3
"""Connecting from an application (README): a code entry and a basket hold
with psycopg 3 (Debian python3-psycopg), as a login granted benefit_sales.

    BENEFIT_DSN="host=db dbname=shop user=webshop" \
        connect.py CODE ORDER_REF PRODUCT_ID SEAT_CATEGORY_ID AUDIENCE_ID

The connection string comes from BENEFIT_DSN (the PG* variables fill in what
it leaves out, the password from PGPASSWORD or ~/.pgpass).  test/clients/run
runs this file against the demo season and checks what it prints.
"""
import os
import sys
from datetime import datetime, timedelta, timezone

import psycopg
from psycopg.types.composite import CompositeInfo, register_composite

code, order_ref = sys.argv[1], sys.argv[2]
product_id, seat_category_id, audience_id = map(int, sys.argv[3:6])
client_key = "web-session-42"  # identifies the buyer's session: wrong codes are throttled per key

with psycopg.connect(os.environ.get("BENEFIT_DSN", "")) as conn:
    # The "Code avantage" box: the text the buyer typed, as a plain str parameter.
    kind, reason, benefit_code = conn.execute(
        "SELECT kind, reason, benefit_code FROM benefit.enter_code(%s, 'web', 'shop', NULL, %s)",
        (code, client_key)).fetchone()
    print(f"code {code}: {kind}, {reason}, benefit {benefit_code}")

    # Basket lines are benefit.basket_line values: register the type once per connection.
    info = CompositeInfo.fetch(conn, "benefit.basket_line")
    register_composite(info, conn)
    BasketLine = info.python_type  # (product_id, performance_id, seat_category_id, audience_id, quantity, base_price_cents)
    lines = [BasketLine(product_id, None, seat_category_id, audience_id, 2, None)]  # 2 tickets, catalogue price

    # Hold the basket for 15 minutes with the code: all of it is reserved, or nothing.
    reason, total_cents = conn.execute(
        """SELECT reason, total_cents
             FROM benefit.hold(order_ref => %s, lines => %s, contact_id => NULL, channel => 'web',
                               held_until => %s, codes => %s, point_of_sale => 'shop', client_key => %s)""",
        (order_ref, lines, datetime.now(timezone.utc) + timedelta(minutes=15), [code], client_key)).fetchone()
    conn.commit()
    print(f"hold {order_ref}: {reason}, {total_cents / 100:.2f} to pay")

    if reason == "ok":
        # Payment received: the uses become final.
        print(f"confirm {order_ref}: {conn.execute('SELECT benefit.confirm(%s)', (order_ref,)).fetchone()[0]}")
        conn.commit()
