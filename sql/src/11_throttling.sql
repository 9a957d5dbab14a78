/*
 * Throttling of wrong code entries.  Wrong entries (unknown or malformed
 * codes) are counted per contact and per client key in a window, in the
 * server's shared memory (src/throttle.c on src/throttle_rule.c), not in a
 * table, so that every read-only call (eligibility, pricing, the code box)
 * works on a hot standby and in a read-only transaction and still throttles.
 * Every call that takes a code goes through the throttle (is_throttled
 * first, record_code_failures for what matched nothing); benefit_admin sees
 * and forgets the counts.
 */

--------------------------------------------------------------------------
-- Functions
--------------------------------------------------------------------------

CREATE FUNCTION benefit_internal.is_throttled(contact_id bigint, client_key text)
RETURNS boolean
AS 'MODULE_PATHNAME', 'benefit_is_throttled'
LANGUAGE C VOLATILE CALLED ON NULL INPUT PARALLEL SAFE SECURITY INVOKER;
COMMENT ON FUNCTION benefit_internal.is_throttled(bigint, text) IS
    '(C, src/throttle.c) True when the contact or the client key entered benefit.throttle_failures wrong codes or more within the current benefit.throttle_window, as this server counted them; false for a caller with neither';
REVOKE ALL ON FUNCTION benefit_internal.is_throttled(bigint, text) FROM PUBLIC;

CREATE FUNCTION benefit_internal.record_code_failures(contact_id bigint, client_key text, n integer)
RETURNS void
AS 'MODULE_PATHNAME', 'benefit_record_code_failures'
LANGUAGE C VOLATILE CALLED ON NULL INPUT PARALLEL UNSAFE SECURITY INVOKER;
COMMENT ON FUNCTION benefit_internal.record_code_failures(bigint, text, integer) IS
    '(C, src/throttle.c) Counts n wrong code entries against the contact and the client key, in this server''s shared memory (no write: works on a standby); a window that ended starts again; a valid code resets nothing';
REVOKE ALL ON FUNCTION benefit_internal.record_code_failures(bigint, text, integer) FROM PUBLIC;

CREATE FUNCTION benefit.list_code_attempts()
RETURNS TABLE (key text, window_start timestamptz, failures integer, throttled boolean)
AS 'MODULE_PATHNAME', 'benefit_list_code_attempts'
LANGUAGE C VOLATILE STRICT PARALLEL SAFE SECURITY INVOKER ROWS 100;
COMMENT ON FUNCTION benefit.list_code_attempts() IS
    'The wrong-code counts this server holds in shared memory for this database: key (contact:<id>, or client:<md5 of the client key>), start of the window, wrong entries in it, and whether the caller is throttled now';
REVOKE ALL ON FUNCTION benefit.list_code_attempts() FROM PUBLIC;
GRANT EXECUTE ON FUNCTION benefit.list_code_attempts() TO benefit_admin;

CREATE FUNCTION benefit.purge_code_attempts()
RETURNS integer
AS 'MODULE_PATHNAME', 'benefit_purge_code_attempts'
LANGUAGE C VOLATILE STRICT PARALLEL UNSAFE SECURITY INVOKER;
COMMENT ON FUNCTION benefit.purge_code_attempts() IS
    'Forgets the wrong-code counts whose window (benefit.throttle_window) has ended, on this server; returns how many. Optional: a full table of counts forgets ended windows by itself';
REVOKE ALL ON FUNCTION benefit.purge_code_attempts() FROM PUBLIC;
GRANT EXECUTE ON FUNCTION benefit.purge_code_attempts() TO benefit_admin, benefit_sales;

CREATE FUNCTION benefit.forget_code_attempts(contact_id bigint DEFAULT NULL, client_key text DEFAULT NULL)
RETURNS integer
AS 'MODULE_PATHNAME', 'benefit_forget_code_attempts'
LANGUAGE C VOLATILE CALLED ON NULL INPUT PARALLEL UNSAFE SECURITY INVOKER;
COMMENT ON FUNCTION benefit.forget_code_attempts(bigint, text) IS
    'Forgets the wrong-code counts of a contact and of a client key on this server, so that a throttled buyer is heard again at once (both NULL: every count of this database); returns how many';
REVOKE ALL ON FUNCTION benefit.forget_code_attempts(bigint, text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION benefit.forget_code_attempts(bigint, text) TO benefit_admin;
