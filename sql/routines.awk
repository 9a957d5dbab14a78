# sql/routines.awk: every routine of the concern sources (sql/src/*.sql) as
# an upgrade script restates it: each CREATE FUNCTION as CREATE OR REPLACE
# FUNCTION, with its COMMENT ON FUNCTION, REVOKE and GRANT statements.
#
# make joins this into the upgrade script of the version in the making, so
# that a function is written once, in its concern source, and never copied
# into an upgrade part.  A statement starts at column 0 and ends at the first
# line ending with ';' outside a $$-quoted body.  A function whose result
# type, argument names or defaults change cannot be replaced: the upgrade
# part drops it first (the statements below then create it, with its
# privileges and comment).
/^CREATE FUNCTION / {
    sub(/^CREATE FUNCTION/, "CREATE OR REPLACE FUNCTION")
    inside = 1
}
/^COMMENT ON FUNCTION / || /^(REVOKE|GRANT) .* ON FUNCTION/ {
    inside = 1
}
inside {
    print
    line = $0
    if (gsub(/\$\$/, "", line) % 2 == 1)
        quoted = !quoted
    if ($0 ~ /BEGIN ATOMIC[[:space:]]*$/)
        atomic = 1
    else if (atomic && $0 ~ /^END;[[:space:]]*$/)
        atomic = 0
    if (!quoted && !atomic && $0 ~ /;[[:space:]]*$/) {
        inside = 0
        print ""
    }
}
