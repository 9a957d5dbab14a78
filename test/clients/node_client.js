// test/clients/node_client.js: benefit from Node.js with node-postgres (pg),
// as a web shop uses it.
//
// Run by test/clients/run, once per login, connected through the PG*
// environment variables (PGUSER is a login granted only the one role):
//
//     node node_client.js sales    codes as text parameters ($1::benefit.code,
//                                  a plain $1), a basket priced, held, confirmed
//     node node_client.js report   code_tracking and code_dashboard by parameter
//
// node-postgres sends every parameter as text of unknown type; $1::text
// types it text, as a text column or a JDBC setString would.  CLIENTS_FIXTURE
// names the JSON file the runner wrote as superuser.  Prints one line per
// check, "ok - ..." or "not ok - ..." (the runner numbers them into TAP),
// diagnostics as "# ...", and "# end: ..." once it has run every check; exits
// 1 when a check failed.  Each query runs in
// its own transaction.
'use strict';

const fs = require('fs');
const assert = require('assert');
const { Client } = require('pg');

const fixture = JSON.parse(fs.readFileSync(process.env.CLIENTS_FIXTURE, 'utf8'));
const codes = fixture.codes; // this client uses codes[6] to codes[9]
let checks = 0;
let failures = 0;

// Prints ok when run() resolves to want (deep equality); an error counts as "SQLSTATE xxxxx".
async function check(description, run, want) {
    checks += 1;
    let got;
    let message = '';
    try {
        got = await run();
    } catch (e) {
        if (!e.code) throw e;
        got = `SQLSTATE ${e.code}`;
        message = e.message;
    }
    try {
        assert.deepStrictEqual(got, want);
        console.log(`ok - ${description}`);
    } catch (e) {
        failures += 1;
        console.log(`not ok - ${description}`);
        console.log(`#   got:  ${JSON.stringify(got)} ${message}`.trimEnd());
        console.log(`#   want: ${JSON.stringify(want)}`);
    }
}

// The code as a buyer types it: lower case, spaces instead of hyphens.
const typed = (code) => code.toLowerCase().replace(/-/g, ' ');

async function sales(db) {
    const one = async (sql, params) => (await db.query({ text: sql, values: params, rowMode: 'array' })).rows[0];
    const later = new Date(Date.now() + 15 * 60 * 1000);

    await check('$1::benefit.code with a string parameter gives the canonical code',
        () => one('SELECT $1::benefit.code', [typed(codes[6])]), [codes[6]]);
    await check('$1::text::benefit.code: a text parameter cast to benefit.code (code_in)',
        () => one('SELECT $1::text::benefit.code', [typed(codes[6])]), [codes[6]]);
    await check('$1::benefit.code::text: a code cast back to text (code_out)',
        () => one('SELECT $1::benefit.code::text', [typed(codes[6])]), [codes[6]]);
    await check('enter_code($1, ...)',
        () => one('SELECT kind, reason, benefit_code FROM benefit.enter_code($1, $2, $3, NULL, $4)',
            [typed(codes[6]), 'web', 'shop', 'node-session']),
        ['single_use', 'ok', 'ce-alpina']);
    await check('is_valid_code($1)', () => one('SELECT benefit.is_valid_code($1)', [codes[6]]), [true]);

    const redeem = (arg) => `SELECT reason, code::text, benefit_code FROM benefit.redeem_code(${arg}, NULL, $2, 'web', 'shop', 'node-session')`;
    await check('redeem_code($1::benefit.code, ...) uses the code',
        () => one(redeem('$1::benefit.code'), [typed(codes[6]), 'NODE-R1']), ['ok', codes[6], 'ce-alpina']);
    await check('redeem_code($1, ...): a plain parameter for the benefit.code argument',
        () => one(redeem('$1'), [codes[7], 'NODE-R2']), ['ok', codes[7], 'ce-alpina']);
    await check('redeem_code($1::text::benefit.code, ...): a text parameter cast to benefit.code (used: already_used)',
        () => one(redeem('$1::text::benefit.code'), [codes[6], 'NODE-R3']), ['already_used', codes[6], 'ce-alpina']);

    // a basket line built in SQL from typed parameters; codes as a JavaScript array (text[])
    await check('price_basket: ROW($1, NULL, $2, $3, 2, NULL)::benefit.basket_line, codes as an array',
        () => one(`SELECT b.base_cents, b.total_cents, (b.lines[1]).benefit_code
                     FROM benefit.price_basket(ARRAY[ROW($1, NULL, $2, $3, 2, NULL)::benefit.basket_line],
                                               NULL, 'web', 'shop', NULL, $4) b`,
            [fixture.cyrano, fixture.stalls, fixture.adult, [typed(codes[8])]]),
        ['8400', '5000', 'ce-alpina']);
    // the lines as JSON, turned into benefit.basket_line[] in SQL; a Date deadline
    const lines = [{ product_id: fixture.cyrano, seat_category_id: fixture.stalls, audience_id: fixture.adult, quantity: 2 }];
    await check('hold: lines from JSON (jsonb_populate_recordset), a Date deadline, a code',
        () => one(`SELECT reason, total_cents
                     FROM benefit.hold($1, ARRAY(SELECT l FROM jsonb_populate_recordset(NULL::benefit.basket_line, $2) l),
                                       NULL, 'web', $3, $4, NULL, 'shop', 'node-session')`,
            ['NODE-H1', JSON.stringify(lines), later, [codes[8]]]),
        ['ok', '5000']);
    await check('confirm', () => one('SELECT benefit.confirm($1)', ['NODE-H1']), ['ok']);
}

async function report(db) {
    const one = async (sql, params) => (await db.query(sql, params)).rows[0];
    await check('code_tracking WHERE code OPERATOR(benefit.=) $1::benefit.code: SELECT *',
        async () => {
            const r = await one('SELECT * FROM benefit.code_tracking WHERE code OPERATOR(benefit.=) $1::benefit.code', [typed(codes[7])]);
            return [r.code, r.state, r.used_order, r.tickets_issued];
        },
        [codes[7], 'used', 'NODE-R2', '0']);
    await check('code_tracking WHERE code OPERATOR(benefit.=) $1::text::benefit.code',
        async () => (await one('SELECT used_order FROM benefit.code_tracking WHERE code OPERATOR(benefit.=) $1::text::benefit.code',
            [codes[8]])).used_order,
        'NODE-H1');
    // the Python client used 4 codes, this one 3 (two redeemed, one held and confirmed)
    await check('code_dashboard: SELECT *',
        async () => {
            const r = await one("SELECT * FROM benefit.code_dashboard WHERE benefit = 'ce-alpina'");
            return [r.codes_used, r.codes_held, r.tickets_issued];
        },
        ['7', '0', '1']);
}

async function main() {
    const part = process.argv[2];
    if (part !== 'sales' && part !== 'report') {
        console.error('usage: node node_client.js sales|report');
        process.exit(2);
    }
    const db = new Client();
    await db.connect();
    const version = require('pg/package.json').version;
    console.log(`# node ${process.version}, pg ${version}, connected as ${(await db.query('SELECT current_user AS u')).rows[0].u}`);
    try {
        await (part === 'sales' ? sales(db) : report(db));
    } finally {
        await db.end();
    }
    console.log(`# end: ${checks} checks, ${failures} failed`);
    process.exit(failures ? 1 : 0);
}

main().catch((e) => {
    console.log(`# ${e.stack || e}`);
    process.exit(1);
});
