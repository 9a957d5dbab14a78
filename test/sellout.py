#!/usr/bin/env python3
"""test/sellout.py: small sell-outs with many buyers at once, from psycopg 3 as a
login granted only benefit_sales: each run makes a fresh benefit with a quota
of 7 units and lets 20 buyers, each on its own connection, redeem 2 codes
(redeem_code) or hold and confirm 1 unit (hold + confirm) at the same moment.
Every run must sell exactly the quota (no oversell, no false sold-out: a
refusal leaves no unit unsold), and no call may fail (no 40P01: a buyer that
locked a quota slot found full since its snapshot never waits on another).
Found by a review from a driver: a sell-out of 7 units by 20 buyers deadlocked
about once in 40 runs.  Needs a server with the extension installed; makes and
drops its own database.  Prints TAP lines; exit status 1 when a check failed."""
import os, sys, threading, random
from collections import Counter
import psycopg

DB = "benefit_sellout"
RUNS = int(os.environ.get("SELLOUT_RUNS", "40"))
BUYERS = 20
QUOTA = 7
checks = []


def check(ok, what):
    checks.append(ok)
    print(("ok" if ok else "not ok") + f" {len(checks)} - {what}", flush=True)


def connect(user=None, db=DB):
    args = dict(dbname=db, autocommit=True)
    if user:
        args.update(user=user, password="sellout", host=os.environ.get("PGHOST", "localhost"))
    return psycopg.connect(**args)


def setup():
    with connect(db="postgres") as c:
        c.execute(f"DROP DATABASE IF EXISTS {DB}")
        c.execute(f"CREATE DATABASE {DB}")
        c.execute("""DO $$ BEGIN
                       IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'sellout_sales') THEN
                           CREATE ROLE sellout_sales LOGIN PASSWORD 'sellout';
                       END IF; END $$""")
    with connect() as c:
        c.execute("CREATE EXTENSION benefit")
        c.execute("GRANT benefit_sales TO sellout_sales")
        c.execute("""
            INSERT INTO benefit.season (code, name, starts_on, ends_on) VALUES ('s', 'Season', '2000-01-01', '2999-12-31');
            INSERT INTO benefit.sales_channel (code, name, kind) VALUES ('box', 'Box office', 'box_office');
            INSERT INTO benefit.product_family (code, name) VALUES ('t', 'Tickets');
            INSERT INTO benefit.product (code, name, family_id, season_id)
                SELECT 'p', 'P', family_id, season_id FROM benefit.product_family, benefit.season;
            INSERT INTO benefit.contact (kind, name, email) VALUES ('organisation', 'Org', 'org@example.org');""")


def new_benefit(c, target, run):
    code = f"{target}-{run}"
    c.execute("""INSERT INTO benefit.benefit (code, name, season_id, target_type, all_channels, quota_total)
                 SELECT %s, %s, season_id, %s, true, %s FROM benefit.season""", (code, code, target, QUOTA))
    c.execute("""INSERT INTO benefit.benefit_tariff (benefit_id, product_id, price_cents)
                 SELECT b.benefit_id, p.product_id, 500 FROM benefit.benefit b, benefit.product p WHERE b.code = %s""", (code,))
    return c.execute("SELECT benefit.go_live(benefit_id)::text, benefit_id FROM benefit.benefit WHERE code = %s",
                     (code,)).fetchone()[1]


def at_once(work):
    results = []
    barrier = threading.Barrier(BUYERS)

    def buyer(i):
        with connect("sellout_sales") as c:
            barrier.wait()
            for r in work(c, i):
                results.append(r)

    threads = [threading.Thread(target=buyer, args=(i,)) for i in range(BUYERS)]
    [t.start() for t in threads]
    [t.join() for t in threads]
    return Counter(results)


def call(c, sql, args):
    try:
        return c.execute(sql, args).fetchone()[0]
    except psycopg.Error as e:
        return f"error {e.sqlstate}"


def used(c, benefit_id):
    return c.execute("SELECT sum(used), sum(held) FROM benefit.counter WHERE kind = 'benefit_slot' AND owner_id = %s",
                     (benefit_id,)).fetchone()


def redeem_runs(c):
    total = Counter()
    good = True
    for run in range(RUNS):
        bid = new_benefit(c, "single_use", run)
        batch = c.execute("SELECT benefit.generate_codes(%s, (SELECT contact_id FROM benefit.contact), %s, 'letter', 'en')",
                          (bid, 2 * BUYERS)).fetchone()[0]
        codes = [r[0] for r in c.execute("SELECT code::text FROM benefit.single_use_code WHERE batch_id = %s ORDER BY code",
                                         (batch,))]
        random.shuffle(codes)
        got = at_once(lambda b, i: [call(b, "SELECT (benefit.redeem_code(%s, NULL, %s, 'box')).reason::text",
                                         (codes[2 * i + k], f"r{run}-{i}-{k}")) for k in range(2)])
        total.update(got)
        u = used(c, bid)
        good &= got["ok"] == QUOTA and u == (QUOTA, 0) and sum(got.values()) == got["ok"] + got["quota_exhausted"]
    check(good, f"redeem_code, {RUNS} sell-outs of {QUOTA} units by {BUYERS} buyers of 2 codes each: "
                f"each sells exactly the quota, every other call quota_exhausted, no error ({dict(total)})")


def hold_runs(c):
    total = Counter()
    good = True
    for run in range(RUNS):
        bid = new_benefit(c, "public", run)
        product = c.execute("SELECT product_id FROM benefit.product").fetchone()[0]
        lines = f"ARRAY[ROW({product}, NULL, NULL, NULL, 1, 1000)::benefit.basket_line]"

        def purchase(b, i):
            ref = f"h{run}-{i}"
            held = call(b, f"SELECT h.reason || ' ' || coalesce(h.lines[1].benefit_id::text, '-') "
                           f"FROM benefit.hold(%s, {lines}, NULL, 'box', now() + interval '5 minutes') h", (ref,))
            if held == f"ok {bid}":
                return ["bought" if call(b, "SELECT benefit.confirm(%s)::text", (ref,)) == "ok" else "confirm failed"]
            # priced without the benefit (seen sold out), or refused because it sold out meanwhile
            return {"ok -": ["full price"], f"quota_exhausted {bid}": ["quota_exhausted"]}.get(held, [held])
        got = at_once(purchase)
        total.update(got)
        u = used(c, bid)
        good &= got["bought"] == QUOTA and u == (QUOTA, 0) and got["full price"] + got["quota_exhausted"] == BUYERS - QUOTA
    check(good, f"hold + confirm, {RUNS} sell-outs of {QUOTA} units by {BUYERS} buyers: each sells exactly the quota, "
                f"the others priced without the benefit or refused quota_exhausted, no error ({dict(total)})")


def main():
    setup()
    with connect() as c:
        redeem_runs(c)
        hold_runs(c)
    with connect(db="postgres") as c:
        c.execute(f"DROP DATABASE {DB}")
    print(f"1..{len(checks)}")
    return 0 if all(checks) else 1


if __name__ == "__main__":
    sys.exit(main())
