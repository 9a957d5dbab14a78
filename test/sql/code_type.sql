-- code_type: the benefit.code type.  One line per literal: what
-- is_valid_code says, then what the input function says (the canonical
-- form, or SQLSTATE, message and detail).
\set VERBOSITY terse
\pset format unaligned
BEGIN;
CREATE EXTENSION benefit;
-- the operators live in schema benefit: callers put it on their search_path
SET LOCAL search_path = public, benefit;

CREATE FUNCTION pg_temp.parse(lit text) RETURNS text LANGUAGE plpgsql AS $$
DECLARE
    st text; msg text; det text;
BEGIN
    RETURN lit::benefit.code::text;
EXCEPTION WHEN others THEN
    GET STACKED DIAGNOSTICS st = RETURNED_SQLSTATE, msg = MESSAGE_TEXT, det = PG_EXCEPTION_DETAIL;
    RETURN st || ' ' || msg || ' / ' || det;
END $$;

SELECT left(quote_literal(lit), 30) AS literal, benefit.is_valid_code(lit) AS valid, left(pg_temp.parse(lit), 140) AS parsed
  FROM (VALUES
    -- valid, in every forgiving spelling
    ('0000-0000-0000-0'),
    ('ZZZZ-ZZZZ-ZZZZ-R'),
    ('zzzz-zzzz-zzzz-r'),
    ('ZZZZZZZZZZZZR'),
    ('  zzzz zzzz zzzz r  '),
    ('Z-Z-Z-Z-Z-Z-Z-Z-Z-Z-Z-Z-R'),
    ('0000-0000-0001-E'),
    ('OOOO-OOOO-OOOi-E'),
    ('oooo-oooo-oool-e'),
    -- wrong check character: every single substitution is caught
    ('ZZZZ-ZZZZ-ZZZZ-S'),
    ('ZZZZ-ZZZZ-ZZZY-R'),
    ('0000-0000-0000-1'),
    -- adjacent swap
    ('0000-0000-0010-E'),
    -- malformed
    (''),
    ('   '),
    ('----'),
    ('ZZZZ-ZZZZ-ZZZZ'),
    ('ZZZZ-ZZZZ-ZZZZ-RR'),
    ('ZZZZ-ZZZZ-ZZZZ-R-0000'),
    ('ZZZZ-ZZZU-ZZZZ-R'),
    ('ZZZZ_ZZZZ_ZZZZ_R'),
    ('ZZZZ.ZZZZ.ZZZZ.R'),
    (E'ZZZZ\tZZZZ-ZZZZ-R'),
    ('ZZZZ-ZZZZ-ZZZZ-R!'),
    ('ÉZZZ-ZZZZ-ZZZZ-R'),
    ('ZZZZ-ZZZZ-ZZZZ-*'),
    (repeat('Z', 1000))
  ) v(lit);

-- NULL in, NULL out; the predicate never raises
SELECT benefit.is_valid_code(NULL) IS NULL AS null_is_null, NULL::text::benefit.code IS NULL AS null_cast;

-- ordering, btree and hash indexes
CREATE TEMP TABLE c (code benefit.code PRIMARY KEY);
INSERT INTO c VALUES ('ZZZZ-ZZZZ-ZZZZ-R'), ('0000-0000-0001-E'), ('0000-0000-0000-0');
SELECT code FROM c ORDER BY code;
SELECT count(*) AS found_by_forgiving_spelling FROM c WHERE code = 'zzzz zzzz zzzz r';
SET LOCAL enable_seqscan = off;
SET LOCAL enable_bitmapscan = off;
EXPLAIN (COSTS OFF) SELECT * FROM c WHERE code = '0000-0000-0001-E';
SELECT code FROM c WHERE code = '0000-0000-0001-e';
CREATE INDEX c_code_hash_idx ON c USING hash (code);
ALTER TABLE c DROP CONSTRAINT c_pkey;
SET LOCAL enable_indexscan = off;
SET LOCAL enable_bitmapscan = on;
EXPLAIN (COSTS OFF) SELECT * FROM c WHERE code = '0000-0000-0001-E';
SELECT code FROM c WHERE code = '0000-0000-0001-e';
RESET enable_seqscan;
RESET enable_indexscan;
RESET enable_bitmapscan;
SELECT a.code < b.code AS lt, a.code = b.code AS eq, a.code <> b.code AS ne
  FROM c a, c b WHERE a.code = '0000-0000-0000-0' AND b.code = 'ZZZZ-ZZZZ-ZZZZ-R';
SELECT pg_column_size('ZZZZ-ZZZZ-ZZZZ-R'::benefit.code) AS bytes;

-- binary form: a version byte then the value; recv is as strict as in
SELECT benefit.code_send('ZZZZ-ZZZZ-ZZZZ-R') AS wire;
CREATE TEMP TABLE r (code benefit.code);
CREATE FUNCTION pg_temp.copy_binary(payload bytea) RETURNS text LANGUAGE plpgsql AS $$
DECLARE
    f text := '/tmp/benefit_code_type_' || pg_backend_pid() || '.bin';
    st text; msg text; lo oid;
BEGIN
    -- a binary COPY file: signature, flags, header extension, one tuple of one field, trailer
    lo := lo_from_bytea(0, '\x5047434f50590aff0d0a00'::bytea || '\x0000000000000000'::bytea
                           || '\x0001'::bytea || int4send(length(payload)) || payload || '\xffff'::bytea);
    PERFORM lo_export(lo, f);
    PERFORM lo_unlink(lo);
    TRUNCATE r;
    EXECUTE format('COPY r FROM %L WITH (FORMAT binary)', f);
    RETURN (SELECT code::text FROM r);
EXCEPTION WHEN others THEN
    GET STACKED DIAGNOSTICS st = RETURNED_SQLSTATE, msg = MESSAGE_TEXT;
    RETURN st || ' ' || msg;
END $$;
SELECT pg_temp.copy_binary('\x010fffffffffffffff') AS version_1;
SELECT pg_temp.copy_binary('\x020fffffffffffffff') AS version_2;
SELECT pg_temp.copy_binary('\x011000000000000000') AS over_60_bits;
SELECT pg_temp.copy_binary('\x01ffffffffffffffff') AS negative;
SELECT pg_temp.copy_binary('\x010fffffff') AS truncated;
ROLLBACK;
