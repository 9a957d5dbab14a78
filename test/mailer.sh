#!/usr/bin/env bash
# test/mailer.sh: a mailer logged in as a role granted only benefit_mailer,
# as README "Single-use codes" describes it.  One psql session LISTENs on
# benefit_code_batch while another (an admin login) generates a batch; the
# mailer receives the notification with the batch id, reads the outbox rows
# still unsent (the catch-up it does when it starts), exports the batch with
# COPY (SELECT * FROM benefit.batch_codes(N)) TO STDOUT WITH CSV HEADER and
# sets sent_at.  A batch rolled back announces nothing.  Prints TAP lines,
# exits 1 on any failure.
#
# Runs against the cluster PGHOST/PGPORT/PGUSER point at (a superuser; bin/test
# runs it inside pg_virtualenv).  It creates and drops its own database and
# two login roles; the logins connect with a password, so PGHOST must reach
# the server over TCP with password authentication (pg_virtualenv's default).
set -euo pipefail
cd "$(dirname "$0")/.."

db=benefit_mailer_test
. "$(dirname "$0")/lib.sh"
mailer=benefit_test_mailer_$$
admin=benefit_test_admin_$$
pw=$(od -An -tx1 -N16 /dev/urandom | tr -d ' \n')
export LC_ALL=C   # psql prints the notification line in English

as_mailer() { PGUSER=$mailer PGPASSWORD=$pw q "$@"; }
as_admin() { PGUSER=$admin PGPASSWORD=$pw q "$@"; }

cleanup() {
    if [ -n "${listener_pid:-}" ]; then kill "$listener_pid" 2>/dev/null || true; wait "$listener_pid" 2>/dev/null || true; fi
    rm -f "${out:-}"
    drop_db
    psql -X -q -d postgres -c "DROP ROLE IF EXISTS $mailer" -c "DROP ROLE IF EXISTS $admin" >/dev/null 2>&1 || true
}
trap cleanup EXIT

fresh_db
q -c "CREATE EXTENSION benefit"
q -f test/fixtures/season.sql >/dev/null   # its batch of 5 codes for Alpina: an unsent mail
psql -X -q -v ON_ERROR_STOP=1 -d postgres \
    -c "CREATE ROLE $mailer LOGIN PASSWORD '$pw' IN ROLE benefit_mailer" \
    -c "CREATE ROLE $admin LOGIN PASSWORD '$pw' IN ROLE benefit_admin"

check "the mailer login is granted benefit_mailer and nothing else" \
    "$(q -c "SELECT count(*) FILTER (WHERE roleid <> 'benefit_mailer'::regrole) + 1 - count(*) FILTER (WHERE roleid = 'benefit_mailer'::regrole)
               FROM pg_auth_members WHERE member = '$mailer'::regrole")"

# the listening session, kept open; its output (notifications included) goes to $out
out=$(mktemp)
coproc LISTENER { PGUSER=$mailer PGPASSWORD=$pw psql -X -q -At -d "$db" >"$out" 2>&1; }
# bash unsets LISTENER_PID as soon as the coprocess ends: keep the pid
listener_pid=$LISTENER_PID
echo "LISTEN benefit_code_batch;" >&"${LISTENER[1]}"

# sends a query to the listening session and waits until its answer (the marker) is printed
poll_n=0
poll() {
    poll_n=$((poll_n + 1))
    echo "SELECT 'poll-$poll_n';" >&"${LISTENER[1]}"
    for _ in $(seq 200); do
        grep -qx "poll-$poll_n" "$out" && return 0
        sleep 0.05
    done
    return 1
}
# waits (a bounded number of polls) for a notification of batch $1 in the listening session
notified() {
    for _ in $(seq 50); do
        poll || return 1
        grep -q "^Asynchronous notification \"benefit_code_batch\" with payload \"$1\" received" "$out" && return 0
        sleep 0.1
    done
    return 1
}
poll
check "the mailer login LISTENs on benefit_code_batch" "$(grep -vc '^poll-' "$out" || true)" "SELECT 'psql printed: ' || \$\$$(cat "$out")\$\$"

# a batch rolled back announces nothing
as_admin -c "BEGIN" -c "SELECT benefit.generate_codes(benefit_id, (SELECT contact_id FROM benefit.contact WHERE name = 'Globex'), 3, 'letter', 'en')
                         FROM benefit.benefit WHERE code = 'ce-alpina'" -c "ROLLBACK" >/dev/null
# an admin generates a batch in its own session
batch=$(as_admin -c "SELECT benefit.generate_codes(benefit_id, (SELECT contact_id FROM benefit.contact WHERE name = 'Globex'), 3, 'letter', 'en')
                       FROM benefit.benefit WHERE code = 'ce-alpina'")
if notified "$batch"; then
    check "the mailer receives the notification of batch $batch, its id as payload" 0
else
    check "the mailer receives the notification of batch $batch, its id as payload" 1 \
        "SELECT 'psql printed: ' || \$\$$(grep -v '^poll-' "$out" || true)\$\$"
fi
check "the batch rolled back was not announced" "$(grep -c '^Asynchronous notification' "$out" | awk '{print $1 - 1}')"
echo '\q' >&"${LISTENER[1]}"
wait "$listener_pid" || true
listener_pid=

# the catch-up: every mail not sent yet, oldest first
catchup=$(as_mailer -F ' ' -c "SELECT batch_id, email, document, language FROM benefit.mail_outbox WHERE sent_at IS NULL ORDER BY outbox_id")
expected="$(q -c "SELECT min(batch_id) FROM benefit.code_batch") ce@alpina.example voucher-letter fr
$batch hr@globex.example letter en"
[ "$catchup" = "$expected" ]; check "the catch-up lists the unsent mails, the fixture's batch and the new one" $? "SELECT \$\$$catchup\$\$"

# the CSV of the batch, from the mailer login, compared with what the DBA sees
csv=$(PGUSER=$mailer PGPASSWORD=$pw psql -X -q -v ON_ERROR_STOP=1 -d "$db" \
        -c "COPY (SELECT * FROM benefit.batch_codes($batch)) TO STDOUT WITH CSV HEADER")
want=$(psql -X -q -v ON_ERROR_STOP=1 -d "$db" \
        -c "COPY (SELECT c.code::text AS code, b.code AS benefit, b.name AS benefit_name
                    FROM benefit.single_use_code c JOIN benefit.benefit b USING (benefit_id)
                   WHERE c.batch_id = $batch ORDER BY c.code) TO STDOUT WITH CSV HEADER")
[ "$csv" = "$want" ] && [ "$(echo "$csv" | head -1)" = "code,benefit,benefit_name" ] && [ "$(echo "$csv" | wc -l)" = 4 ]
check "COPY (SELECT * FROM benefit.batch_codes($batch)) TO STDOUT WITH CSV HEADER: a header and the batch's 3 codes" $? "SELECT \$\$$csv\$\$"
check "every exported code is a valid code of the batch" \
    "$(echo "$csv" | tail -n +2 | cut -d, -f1 | while read -r c; do
           q -c "SELECT count(*) FROM benefit.single_use_code WHERE batch_id = $batch AND code::text = '$c' AND benefit.is_valid_code('$c')"
       done | grep -vcx 1 || true)"

# mark it sent; the catch-up no longer lists it
sent=$(as_mailer -c "UPDATE benefit.mail_outbox SET sent_at = now() WHERE batch_id = $batch AND sent_at IS NULL RETURNING email")
[ "$sent" = hr@globex.example ]; check "the mailer marks the mail sent" $? "SELECT \$\$$sent\$\$"
left=$(as_mailer -c "SELECT string_agg(batch_id::text, ',') FROM benefit.mail_outbox WHERE sent_at IS NULL")
[ "$left" = "$(q -c "SELECT min(batch_id) FROM benefit.code_batch")" ]; check "the catch-up now lists only the older mail" $? "SELECT \$\$$left\$\$"

# and nothing else
refused=0
for sql in "SELECT * FROM benefit.single_use_code" "SELECT * FROM benefit.contact" "SELECT * FROM benefit.code_batch" \
           "SELECT benefit.generate_codes(1, 1, 1, 'letter', 'fr')" "UPDATE benefit.mail_outbox SET email = 'x@example.org'"; do
    err=$(as_mailer -c "$sql" 2>&1 >/dev/null || true)
    case "$err" in *"permission denied"*) ;; *) refused=$((refused + 1)); echo "# not refused: $sql: $err" ;; esac
done
check "the mailer login cannot read codes, contacts or batches, generate codes or readdress a mail (42501)" "$refused"

echo "1..$n"
[ "$violations" -eq 0 ] || exit 1
