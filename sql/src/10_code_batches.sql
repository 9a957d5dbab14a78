/*
 * Code batches: single-use codes generated for an organisation contact
 * (Complément vente: générer et envoyer les codes), every code and its state,
 * and the mail outbox a mailer outside the database reads.
 *
 * The mailer (benefit_mailer) LISTENs on channel benefit_code_batch (no
 * privilege needed), reads the outbox (catch-up of the rows with sent_at IS
 * NULL when it starts), exports each batch with batch_codes, which runs as
 * the extension owner, and sets sent_at; it cannot generate codes, read
 * contacts, configuration, codes or history, nor change anything else of
 * the outbox.
 */

--------------------------------------------------------------------------
-- Types
--------------------------------------------------------------------------

CREATE TYPE benefit.code_state AS ENUM ('issued', 'held', 'used', 'invalidated');
COMMENT ON TYPE benefit.code_state IS
    'State of a single-use code: issued -> held (by one order until a deadline) -> used; a hold can be released or expire (back to issued); issued or held codes can be invalidated; used and invalidated are final';
REVOKE ALL ON TYPE benefit.code_state FROM PUBLIC;
GRANT USAGE ON TYPE benefit.code_state TO benefit_admin, benefit_sales, benefit_report;

--------------------------------------------------------------------------
-- Tables
--------------------------------------------------------------------------

CREATE TABLE benefit.code_batch (
    batch_id    bigint GENERATED ALWAYS AS IDENTITY,
    benefit_id  bigint NOT NULL,
    season_id   bigint NOT NULL,
    contact_id  bigint NOT NULL,
    code_count  integer NOT NULL,
    email       text NOT NULL,
    document    text NOT NULL,
    language    text NOT NULL,
    created_by  name NOT NULL DEFAULT CURRENT_USER,
    created_at  timestamptz NOT NULL DEFAULT pg_catalog.now(),
    CONSTRAINT code_batch_pkey PRIMARY KEY (batch_id),
    CONSTRAINT code_batch_code_count_check CHECK (code_count > 0),
    CONSTRAINT code_batch_document_check CHECK (btrim(document) <> ''),
    CONSTRAINT code_batch_language_check CHECK (language ~ '^[a-z]{2}(-[A-Z]{2})?$'),
    CONSTRAINT code_batch_benefit_id_fkey FOREIGN KEY (benefit_id) REFERENCES benefit.benefit (benefit_id),
    CONSTRAINT code_batch_season_id_fkey FOREIGN KEY (season_id) REFERENCES benefit.season (season_id),
    CONSTRAINT code_batch_contact_id_fkey FOREIGN KEY (contact_id) REFERENCES benefit.contact (contact_id)
);
CREATE INDEX code_batch_contact_id_idx ON benefit.code_batch (contact_id);
CREATE INDEX code_batch_benefit_id_idx ON benefit.code_batch (benefit_id);
COMMENT ON TABLE benefit.code_batch IS 'A batch of single-use codes generated for an organisation contact (Complément vente: générer et envoyer les codes); written by benefit.generate_codes';
COMMENT ON COLUMN benefit.code_batch.batch_id IS 'Surrogate key, returned by benefit.generate_codes';
COMMENT ON COLUMN benefit.code_batch.benefit_id IS 'The single-use benefit the codes unlock';
COMMENT ON COLUMN benefit.code_batch.season_id IS 'Season of the benefit when the batch was generated';
COMMENT ON COLUMN benefit.code_batch.contact_id IS 'The organisation contact that receives the codes';
COMMENT ON COLUMN benefit.code_batch.code_count IS 'How many codes were generated';
COMMENT ON COLUMN benefit.code_batch.email IS 'E-mail address the CSV goes to, taken from the contact at generation time';
COMMENT ON COLUMN benefit.code_batch.document IS 'Document template the mailer uses';
COMMENT ON COLUMN benefit.code_batch.language IS 'Language of the mail';
COMMENT ON COLUMN benefit.code_batch.created_by IS 'Who generated the batch (database role)';
COMMENT ON COLUMN benefit.code_batch.created_at IS 'When';
COMMENT ON CONSTRAINT code_batch_code_count_check ON benefit.code_batch IS 'code_count must be positive';
COMMENT ON CONSTRAINT code_batch_document_check ON benefit.code_batch IS 'document must not be blank';
COMMENT ON CONSTRAINT code_batch_language_check ON benefit.code_batch IS 'language is an ISO 639-1 code, optionally with a region';
COMMENT ON INDEX benefit.code_batch_contact_id_idx IS 'Batches of an organisation contact';
COMMENT ON INDEX benefit.code_batch_benefit_id_idx IS 'Batches of a benefit';
SELECT pg_catalog.pg_extension_config_dump('benefit.code_batch', '');
SELECT pg_catalog.pg_extension_config_dump('benefit.code_batch_batch_id_seq', '');
REVOKE ALL ON TABLE benefit.code_batch FROM PUBLIC;
REVOKE ALL ON SEQUENCE benefit.code_batch_batch_id_seq FROM PUBLIC;
GRANT SELECT ON benefit.code_batch TO benefit_admin;

CREATE TABLE benefit.single_use_code (
    code        benefit.code NOT NULL,
    batch_id    bigint NOT NULL,
    benefit_id  bigint NOT NULL,
    state       benefit.code_state NOT NULL DEFAULT 'issued',
    hold_order  text,
    hold_until  timestamptz,
    used_at     timestamptz,
    used_by_contact bigint,
    used_order  text,
    invalidated_at timestamptz,
    invalidated_by name,
    invalidated_reason text,
    CONSTRAINT single_use_code_pkey PRIMARY KEY (code),
    CONSTRAINT single_use_code_hold_check
        CHECK ((state = 'held') = (hold_order IS NOT NULL AND hold_until IS NOT NULL)),
    CONSTRAINT single_use_code_used_check CHECK ((state = 'used') = (used_at IS NOT NULL AND used_order IS NOT NULL)),
    CONSTRAINT single_use_code_invalidated_check
        CHECK ((state = 'invalidated') = (invalidated_at IS NOT NULL AND invalidated_reason IS NOT NULL))
) WITH (fillfactor = 80);
CREATE INDEX single_use_code_batch_id_idx ON benefit.single_use_code (batch_id);
COMMENT ON TABLE benefit.single_use_code IS 'Every single-use code and its state; the hot table of redemption (fillfactor 80 and no index on changing columns, so updates stay HOT)';
COMMENT ON COLUMN benefit.single_use_code.code IS 'The code (8 bytes)';
COMMENT ON COLUMN benefit.single_use_code.batch_id IS 'The batch it was generated in (no foreign key: rows are written only by benefit.generate_codes, and a per-row key check would double the cost of generating a million codes)';
COMMENT ON COLUMN benefit.single_use_code.benefit_id IS 'The benefit it unlocks (that of its batch, copied so redemption reads one row)';
COMMENT ON COLUMN benefit.single_use_code.state IS 'issued, held, used or invalidated';
COMMENT ON COLUMN benefit.single_use_code.hold_order IS 'Order reference holding the code (state held)';
COMMENT ON COLUMN benefit.single_use_code.hold_until IS 'Deadline of the hold (state held)';
COMMENT ON COLUMN benefit.single_use_code.used_at IS 'When it was used (state used)';
COMMENT ON COLUMN benefit.single_use_code.used_by_contact IS 'Contact who used it, NULL for an anonymous buyer';
COMMENT ON COLUMN benefit.single_use_code.used_order IS 'Order it was used for (state used)';
COMMENT ON COLUMN benefit.single_use_code.invalidated_at IS 'When an operator invalidated it';
COMMENT ON COLUMN benefit.single_use_code.invalidated_by IS 'Who invalidated it (database role)';
COMMENT ON COLUMN benefit.single_use_code.invalidated_reason IS 'Why it was invalidated';
COMMENT ON CONSTRAINT single_use_code_hold_check ON benefit.single_use_code IS 'a held code has an order reference and a deadline, and only a held code has them';
COMMENT ON CONSTRAINT single_use_code_used_check ON benefit.single_use_code IS 'a used code has a use time and an order, and only a used code has them';
COMMENT ON CONSTRAINT single_use_code_invalidated_check ON benefit.single_use_code IS 'an invalidated code has a time and a reason, and only an invalidated code has them';
COMMENT ON INDEX benefit.single_use_code_batch_id_idx IS 'Codes of a batch (CSV export, dashboard)';
SELECT pg_catalog.pg_extension_config_dump('benefit.single_use_code', '');
REVOKE ALL ON TABLE benefit.single_use_code FROM PUBLIC;
GRANT SELECT ON benefit.single_use_code TO benefit_admin;

CREATE TABLE benefit.mail_outbox (
    outbox_id   bigint GENERATED ALWAYS AS IDENTITY,
    batch_id    bigint NOT NULL,
    email       text NOT NULL,
    document    text NOT NULL,
    language    text NOT NULL,
    created_at  timestamptz NOT NULL DEFAULT pg_catalog.now(),
    sent_at     timestamptz,
    CONSTRAINT mail_outbox_pkey PRIMARY KEY (outbox_id),
    CONSTRAINT mail_outbox_batch_id_fkey FOREIGN KEY (batch_id) REFERENCES benefit.code_batch (batch_id)
);
CREATE INDEX mail_outbox_unsent_idx ON benefit.mail_outbox (outbox_id) WHERE sent_at IS NULL;
COMMENT ON TABLE benefit.mail_outbox IS 'Mails to send, written in the transaction that generates a batch; a mailer outside the database LISTENs on channel benefit_code_batch, sends the CSV of benefit.batch_codes(batch_id) and sets sent_at';
COMMENT ON COLUMN benefit.mail_outbox.outbox_id IS 'Surrogate key';
COMMENT ON COLUMN benefit.mail_outbox.batch_id IS 'The batch whose codes go in the CSV';
COMMENT ON COLUMN benefit.mail_outbox.email IS 'Recipient';
COMMENT ON COLUMN benefit.mail_outbox.document IS 'Document template';
COMMENT ON COLUMN benefit.mail_outbox.language IS 'Language of the mail';
COMMENT ON COLUMN benefit.mail_outbox.created_at IS 'When the mail was queued';
COMMENT ON COLUMN benefit.mail_outbox.sent_at IS 'When the mailer sent it; NULL while pending';
COMMENT ON INDEX benefit.mail_outbox_unsent_idx IS 'Pending mails';
SELECT pg_catalog.pg_extension_config_dump('benefit.mail_outbox', '');
SELECT pg_catalog.pg_extension_config_dump('benefit.mail_outbox_outbox_id_seq', '');
REVOKE ALL ON TABLE benefit.mail_outbox FROM PUBLIC;
REVOKE ALL ON SEQUENCE benefit.mail_outbox_outbox_id_seq FROM PUBLIC;
GRANT SELECT, UPDATE (sent_at) ON benefit.mail_outbox TO benefit_admin, benefit_mailer;

--------------------------------------------------------------------------
-- Functions
--------------------------------------------------------------------------

CREATE FUNCTION benefit.generate_codes(benefit_id bigint, organisation_contact_id bigint, count integer,
                                       document text, language text)
RETURNS bigint
AS 'MODULE_PATHNAME', 'benefit_generate_codes'
LANGUAGE C VOLATILE STRICT PARALLEL UNSAFE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp;
COMMENT ON FUNCTION benefit.generate_codes(bigint, bigint, integer, text, text) IS
    'Generates count single-use codes (1 to 10,000,000) of a single-use benefit for an organisation contact, records the batch, queues its mail in mail_outbox and sends NOTIFY benefit_code_batch with the batch id; returns the batch id';
REVOKE ALL ON FUNCTION benefit.generate_codes(bigint, bigint, integer, text, text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION benefit.generate_codes(bigint, bigint, integer, text, text) TO benefit_admin;

CREATE FUNCTION benefit.batch_codes(batch_id bigint)
RETURNS TABLE (code text, benefit text, benefit_name text)
LANGUAGE sql STABLE STRICT PARALLEL SAFE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
BEGIN ATOMIC
    SELECT c.code::text, b.code, b.name
      FROM benefit.single_use_code c
      JOIN benefit.benefit b ON b.benefit_id = c.benefit_id
     WHERE c.batch_id = batch_codes.batch_id
     ORDER BY c.code;
END;
COMMENT ON FUNCTION benefit.batch_codes(bigint) IS
    'The codes of a batch, for the CSV mailed to the organisation: COPY (SELECT * FROM benefit.batch_codes(42)) TO STDOUT WITH CSV HEADER; runs as the extension owner, for benefit_admin and benefit_mailer';
REVOKE ALL ON FUNCTION benefit.batch_codes(bigint) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION benefit.batch_codes(bigint) TO benefit_admin, benefit_mailer;
