# test/lib.sh: helpers shared by the shell test scripts, sourced after $db is set.
#   q ARGS...        psql on $db, stopping at the first error, unaligned, tuples only
#   drop_db          drops $db if it exists, quietly
#   login NAME ROLE  creates the LOGIN role NAME granted only ROLE (when missing), gives
#                    it a new random password and prints the password
#   fresh_db         drops and creates $db
#   check DESC N [QUERY]
#                    prints a TAP line "ok"/"not ok" for N violations (counting them in
#                    $violations) and, when it failed, the rows QUERY returns
#   COUNTERS_VS_HOLDS
#                    SQL counting the counters whose held or used units differ from the
#                    units of the open or confirmed holds recorded on them
#   fingerprint_sql DB
#                    the query fingerprint runs, for the tables and columns DB has now
#   fingerprint DB [SQL]
#                    one line per table of the benefit schema: name, row count, md5 of
#                    all rows in order; with SQL from fingerprint_sql, only the tables and
#                    columns it names (compares the rows an upgrade kept, whatever columns
#                    it added)

q() { psql -X -q -v ON_ERROR_STOP=1 -At -d "$db" "$@"; }
drop_db() { PGOPTIONS='-c client_min_messages=warning' dropdb --if-exists "$db" || true; }
fresh_db() { drop_db; createdb "$db"; }
login() {
    local password
    password=$(od -An -N16 -tx1 /dev/urandom | tr -d ' \n')
    q -v name="$1" -v role="$2" -v password="$password" <<'SQL' > /dev/null
SET client_min_messages = warning;
SELECT format('CREATE ROLE %I LOGIN', :'name') WHERE NOT EXISTS (SELECT FROM pg_roles WHERE rolname = :'name') \gexec
GRANT :"role" TO :"name";
ALTER ROLE :"name" PASSWORD :'password';
SQL
    echo "$password"
}

n=0
violations=0
check() {
    n=$((n + 1))
    if [ "$2" = 0 ]; then
        echo "ok $n - $1"
    else
        echo "not ok $n - $1 ($2)"
        violations=$((violations + 1))
        if [ -n "${3:-}" ]; then q -F ' | ' -c "$3" | sed 's/^/#   /' || true; fi
    fi
}

COUNTERS_VS_HOLDS="
SELECT count(*) FROM benefit.counter c
  FULL JOIN (SELECT o.kind, o.owner_id, o.key,
                    sum(o.units) FILTER (WHERE h.state = 'held') AS held,
                    sum(o.units) FILTER (WHERE h.state = 'confirmed') AS used
               FROM benefit.order_hold_counter o JOIN benefit.order_hold h USING (order_ref)
              GROUP BY 1, 2, 3) r USING (kind, owner_id, key)
 WHERE coalesce(c.held, 0) <> coalesce(r.held, 0) OR coalesce(c.used, 0) <> coalesce(r.used, 0)"

fingerprint_sql() {
    psql -X -q -v ON_ERROR_STOP=1 -At -d "$1" <<'SQL'
SELECT string_agg(format('SELECT %L AS t, count(*) AS n, md5(string_agg(r::text, %L ORDER BY r::text)) AS h FROM (SELECT ROW(%s) AS r FROM benefit.%I) x',
                         c.relname, '|', cols, c.relname), E' UNION ALL\n' ORDER BY c.relname)
  FROM pg_class c
  CROSS JOIN LATERAL (SELECT string_agg(quote_ident(a.attname), ', ' ORDER BY a.attnum) AS cols
                        FROM pg_attribute a
                       WHERE a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped) a
 WHERE c.relnamespace = 'benefit'::regnamespace AND c.relkind = 'r'
SQL
}

fingerprint() {
    local sql=${2:-$(fingerprint_sql "$1")}
    psql -X -q -v ON_ERROR_STOP=1 -At -F ' ' -d "$1" -c "SELECT t, n, h FROM ($sql) f ORDER BY t"
}
