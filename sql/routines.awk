# sql/routines.awk: every routine and view of the concern sources
# (sql/src/*.sql) as an upgrade script restates it: each CREATE FUNCTION as
# CREATE OR REPLACE FUNCTION, with its COMMENT ON FUNCTION, REVOKE and GRANT
# statements; each CREATE VIEW as CREATE OR REPLACE VIEW, with its comments
# (the view's and its columns') and privileges.
#
# make joins this into the upgrade script of the version in the making, so
# that a function is written once, in its concern source, and never copied
# into an upgrade part.  A statement starts at column 0 and ends at the first
# line ending with ';' outside a $$-quoted body.  A function whose result
# type, argument names or defaults change, or a view whose columns change
# other than at the end, cannot be replaced: the upgrade part drops it first
# (the statements below then create it, with its privileges and comments).
/^CREATE FUNCTION / {
    sub(/^CREATE FUNCTION/, "CREATE OR REPLACE FUNCTION")
    inside = 1
}
/^COMMENT ON FUNCTION / || /^(REVOKE|GRANT) .* ON FUNCTION/ {
    inside = 1
}
/^CREATE VIEW / {
    views[$3] = 1
    sub(/^CREATE VIEW/, "CREATE OR REPLACE VIEW")
    inside = 1
}
/^COMMENT ON VIEW / {
    inside = 1
}
/^COMMENT ON COLUMN / {
    relation = $4
    sub(/\.[^.]*$/, "", relation)
    if (relation in views)
        inside = 1
}
/^(REVOKE|GRANT) / {
    for (i = 2; i < NF; i++)
        if ($i == "ON") {
            target = $(i + 1) == "TABLE" ? $(i + 2) : $(i + 1)
            if (target in views)
                inside = 1
            break
        }
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
