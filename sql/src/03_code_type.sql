/*
 * The code type: benefit.code, a single-use code in 8 bytes (60 random bits),
 * written dddd-dddd-dddd-c in Crockford base32 with a check character; its
 * input, output and binary functions (C, src/code.c on src/code_format.c), its
 * btree and hash operator classes, its casts from and to text, and
 * is_valid_code.
 *
 * Every role can use the type and its support functions: they only turn a
 * code the caller already has into another form of the same code (text <->
 * benefit.code, binary send and receive), or compare and hash codes the
 * caller already has.  Their text form tells the caller nothing it did not
 * send, and none of them reads a table.  benefit_sales still cannot list
 * codes: it has no privilege on any table holding codes (single_use_code,
 * code_batch, code_history, ticket, order_code) nor on batch_codes or the
 * code views; benefit_report sees the codes its views show, nothing more.
 * The mailer gets none of them: batch_codes gives it the codes as text, and
 * it reads no code column.
 */

--------------------------------------------------------------------------
-- Types
--------------------------------------------------------------------------

CREATE TYPE benefit.code;

CREATE FUNCTION benefit.code_in(cstring) RETURNS benefit.code
AS 'MODULE_PATHNAME', 'benefit_code_in' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION benefit.code_in(cstring) IS 'Input function of benefit.code: case-insensitive, ignores spaces and hyphens, reads O as 0 and I, L as 1; 22P02 when malformed or the check character does not match';
CREATE FUNCTION benefit.code_out(benefit.code) RETURNS cstring
AS 'MODULE_PATHNAME', 'benefit_code_out' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION benefit.code_out(benefit.code) IS 'Output function of benefit.code: dddd-dddd-dddd-c';
CREATE FUNCTION benefit.code_recv(internal) RETURNS benefit.code
AS 'MODULE_PATHNAME', 'benefit_code_recv' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION benefit.code_recv(internal) IS 'Binary input of benefit.code: a format-version byte (1), then the value as int8; refuses other versions and values over 60 bits';
CREATE FUNCTION benefit.code_send(benefit.code) RETURNS bytea
AS 'MODULE_PATHNAME', 'benefit_code_send' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION benefit.code_send(benefit.code) IS 'Binary output of benefit.code: a format-version byte (1), then the value as int8';

CREATE TYPE benefit.code (
    INPUT = benefit.code_in,
    OUTPUT = benefit.code_out,
    RECEIVE = benefit.code_recv,
    SEND = benefit.code_send,
    INTERNALLENGTH = 8,
    PASSEDBYVALUE,
    ALIGNMENT = double,
    STORAGE = plain
);
COMMENT ON TYPE benefit.code IS
    'A single-use code: 60 random bits in 8 bytes, written as 12 Crockford base32 characters and a check character, dddd-dddd-dddd-c';
REVOKE ALL ON TYPE benefit.code FROM PUBLIC;
GRANT USAGE ON TYPE benefit.code TO benefit_admin, benefit_sales, benefit_report;

--------------------------------------------------------------------------
-- Functions
--------------------------------------------------------------------------

CREATE FUNCTION benefit.is_valid_code(text) RETURNS boolean
AS 'MODULE_PATHNAME', 'benefit_is_valid_code' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION benefit.is_valid_code(text) IS
    'True when the text is a well-formed code with the right check character; never raises (NULL for NULL)';
REVOKE ALL ON FUNCTION benefit.is_valid_code(text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION benefit.is_valid_code(text) TO benefit_admin, benefit_sales;

CREATE FUNCTION benefit.code_eq(benefit.code, benefit.code) RETURNS boolean
LANGUAGE internal IMMUTABLE STRICT PARALLEL SAFE LEAKPROOF AS 'int8eq';
COMMENT ON FUNCTION benefit.code_eq(benefit.code, benefit.code) IS 'Support of = on benefit.code';
CREATE FUNCTION benefit.code_ne(benefit.code, benefit.code) RETURNS boolean
LANGUAGE internal IMMUTABLE STRICT PARALLEL SAFE LEAKPROOF AS 'int8ne';
COMMENT ON FUNCTION benefit.code_ne(benefit.code, benefit.code) IS 'Support of <> on benefit.code';
CREATE FUNCTION benefit.code_lt(benefit.code, benefit.code) RETURNS boolean
LANGUAGE internal IMMUTABLE STRICT PARALLEL SAFE LEAKPROOF AS 'int8lt';
COMMENT ON FUNCTION benefit.code_lt(benefit.code, benefit.code) IS 'Support of < on benefit.code';
CREATE FUNCTION benefit.code_le(benefit.code, benefit.code) RETURNS boolean
LANGUAGE internal IMMUTABLE STRICT PARALLEL SAFE LEAKPROOF AS 'int8le';
COMMENT ON FUNCTION benefit.code_le(benefit.code, benefit.code) IS 'Support of <= on benefit.code';
CREATE FUNCTION benefit.code_gt(benefit.code, benefit.code) RETURNS boolean
LANGUAGE internal IMMUTABLE STRICT PARALLEL SAFE LEAKPROOF AS 'int8gt';
COMMENT ON FUNCTION benefit.code_gt(benefit.code, benefit.code) IS 'Support of > on benefit.code';
CREATE FUNCTION benefit.code_ge(benefit.code, benefit.code) RETURNS boolean
LANGUAGE internal IMMUTABLE STRICT PARALLEL SAFE LEAKPROOF AS 'int8ge';
COMMENT ON FUNCTION benefit.code_ge(benefit.code, benefit.code) IS 'Support of >= on benefit.code';
CREATE FUNCTION benefit.code_cmp(benefit.code, benefit.code) RETURNS integer
LANGUAGE internal IMMUTABLE STRICT PARALLEL SAFE LEAKPROOF AS 'btint8cmp';
COMMENT ON FUNCTION benefit.code_cmp(benefit.code, benefit.code) IS 'btree comparison of benefit.code';
CREATE FUNCTION benefit.code_sortsupport(internal) RETURNS void
LANGUAGE internal IMMUTABLE STRICT PARALLEL SAFE AS 'btint8sortsupport';
COMMENT ON FUNCTION benefit.code_sortsupport(internal) IS 'btree sort support of benefit.code';
CREATE FUNCTION benefit.code_hash(benefit.code) RETURNS integer
LANGUAGE internal IMMUTABLE STRICT PARALLEL SAFE LEAKPROOF AS 'hashint8';
COMMENT ON FUNCTION benefit.code_hash(benefit.code) IS 'Hash of benefit.code';
CREATE FUNCTION benefit.code_hash_extended(benefit.code, bigint) RETURNS bigint
LANGUAGE internal IMMUTABLE STRICT PARALLEL SAFE LEAKPROOF AS 'hashint8extended';
COMMENT ON FUNCTION benefit.code_hash_extended(benefit.code, bigint) IS 'Seeded hash of benefit.code';

-- the support functions of the type, for every role (see above)
REVOKE ALL ON FUNCTION
    benefit.code_in(cstring),
    benefit.code_out(benefit.code),
    benefit.code_recv(internal),
    benefit.code_send(benefit.code),
    benefit.code_eq(benefit.code, benefit.code),
    benefit.code_ne(benefit.code, benefit.code),
    benefit.code_lt(benefit.code, benefit.code),
    benefit.code_le(benefit.code, benefit.code),
    benefit.code_gt(benefit.code, benefit.code),
    benefit.code_ge(benefit.code, benefit.code),
    benefit.code_cmp(benefit.code, benefit.code),
    benefit.code_sortsupport(internal),
    benefit.code_hash(benefit.code),
    benefit.code_hash_extended(benefit.code, bigint)
    FROM PUBLIC;
GRANT EXECUTE ON FUNCTION
    benefit.code_in(cstring),
    benefit.code_out(benefit.code),
    benefit.code_recv(internal),
    benefit.code_send(benefit.code),
    benefit.code_eq(benefit.code, benefit.code),
    benefit.code_ne(benefit.code, benefit.code),
    benefit.code_lt(benefit.code, benefit.code),
    benefit.code_le(benefit.code, benefit.code),
    benefit.code_gt(benefit.code, benefit.code),
    benefit.code_ge(benefit.code, benefit.code),
    benefit.code_cmp(benefit.code, benefit.code),
    benefit.code_sortsupport(internal),
    benefit.code_hash(benefit.code),
    benefit.code_hash_extended(benefit.code, bigint)
    TO benefit_admin, benefit_sales, benefit_report;

--------------------------------------------------------------------------
-- Operators, operator classes, casts
--------------------------------------------------------------------------

CREATE OPERATOR benefit.= (
    LEFTARG = benefit.code, RIGHTARG = benefit.code, FUNCTION = benefit.code_eq,
    COMMUTATOR = OPERATOR(benefit.=), NEGATOR = OPERATOR(benefit.<>),
    RESTRICT = eqsel, JOIN = eqjoinsel, HASHES, MERGES);
COMMENT ON OPERATOR benefit.= (benefit.code, benefit.code) IS 'equal';
CREATE OPERATOR benefit.<> (
    LEFTARG = benefit.code, RIGHTARG = benefit.code, FUNCTION = benefit.code_ne,
    COMMUTATOR = OPERATOR(benefit.<>), NEGATOR = OPERATOR(benefit.=),
    RESTRICT = neqsel, JOIN = neqjoinsel);
COMMENT ON OPERATOR benefit.<> (benefit.code, benefit.code) IS 'not equal';
CREATE OPERATOR benefit.< (
    LEFTARG = benefit.code, RIGHTARG = benefit.code, FUNCTION = benefit.code_lt,
    COMMUTATOR = OPERATOR(benefit.>), NEGATOR = OPERATOR(benefit.>=),
    RESTRICT = scalarltsel, JOIN = scalarltjoinsel);
COMMENT ON OPERATOR benefit.< (benefit.code, benefit.code) IS 'less than';
CREATE OPERATOR benefit.<= (
    LEFTARG = benefit.code, RIGHTARG = benefit.code, FUNCTION = benefit.code_le,
    COMMUTATOR = OPERATOR(benefit.>=), NEGATOR = OPERATOR(benefit.>),
    RESTRICT = scalarlesel, JOIN = scalarlejoinsel);
COMMENT ON OPERATOR benefit.<= (benefit.code, benefit.code) IS 'less than or equal';
CREATE OPERATOR benefit.> (
    LEFTARG = benefit.code, RIGHTARG = benefit.code, FUNCTION = benefit.code_gt,
    COMMUTATOR = OPERATOR(benefit.<), NEGATOR = OPERATOR(benefit.<=),
    RESTRICT = scalargtsel, JOIN = scalargtjoinsel);
COMMENT ON OPERATOR benefit.> (benefit.code, benefit.code) IS 'greater than';
CREATE OPERATOR benefit.>= (
    LEFTARG = benefit.code, RIGHTARG = benefit.code, FUNCTION = benefit.code_ge,
    COMMUTATOR = OPERATOR(benefit.<=), NEGATOR = OPERATOR(benefit.<),
    RESTRICT = scalargesel, JOIN = scalargejoinsel);
COMMENT ON OPERATOR benefit.>= (benefit.code, benefit.code) IS 'greater than or equal';

CREATE OPERATOR CLASS benefit.code_btree_ops
    DEFAULT FOR TYPE benefit.code USING btree AS
        OPERATOR 1 benefit.<,
        OPERATOR 2 benefit.<=,
        OPERATOR 3 benefit.=,
        OPERATOR 4 benefit.>=,
        OPERATOR 5 benefit.>,
        FUNCTION 1 benefit.code_cmp(benefit.code, benefit.code),
        FUNCTION 2 benefit.code_sortsupport(internal);
COMMENT ON OPERATOR CLASS benefit.code_btree_ops USING btree IS 'Default btree operator class of benefit.code';

CREATE OPERATOR CLASS benefit.code_hash_ops
    DEFAULT FOR TYPE benefit.code USING hash AS
        OPERATOR 1 benefit.=,
        FUNCTION 1 benefit.code_hash(benefit.code),
        FUNCTION 2 benefit.code_hash_extended(benefit.code, bigint);
COMMENT ON OPERATOR CLASS benefit.code_hash_ops USING hash IS 'Default hash operator class of benefit.code';

CREATE CAST (text AS benefit.code) WITH INOUT AS ASSIGNMENT;
COMMENT ON CAST (text AS benefit.code) IS 'Parses a code (22P02 when malformed)';
CREATE CAST (benefit.code AS text) WITH INOUT AS ASSIGNMENT;
COMMENT ON CAST (benefit.code AS text) IS 'The canonical text form dddd-dddd-dddd-c';
