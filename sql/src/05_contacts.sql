/*
 * Contacts and indicators: the people and organisations the ticketing
 * system knows, the indicators (loyalty tier, subscriber status...) with
 * their levels, and the level each contact has now (read live by the
 * runtime).  The audit column created_at is written by the extension only:
 * benefit_admin inserts and updates contacts column by column.
 */

--------------------------------------------------------------------------
-- Types
--------------------------------------------------------------------------

CREATE TYPE benefit.contact_kind AS ENUM ('person', 'organisation');
COMMENT ON TYPE benefit.contact_kind IS
    'A contact is a person or an organisation (a company or association that can receive batches of single-use codes)';
REVOKE ALL ON TYPE benefit.contact_kind FROM PUBLIC;
GRANT USAGE ON TYPE benefit.contact_kind TO benefit_admin, benefit_sales, benefit_report;

--------------------------------------------------------------------------
-- Tables
--------------------------------------------------------------------------

CREATE TABLE benefit.contact (
    contact_id  bigint GENERATED ALWAYS AS IDENTITY,
    kind        benefit.contact_kind NOT NULL,
    name        text NOT NULL,
    email       text,
    language    text NOT NULL DEFAULT 'fr',
    external_ref text,
    created_at  timestamptz NOT NULL DEFAULT pg_catalog.now(),
    CONSTRAINT contact_pkey PRIMARY KEY (contact_id),
    CONSTRAINT contact_external_ref_key UNIQUE (external_ref),
    CONSTRAINT contact_name_check CHECK (btrim(name) <> ''),
    CONSTRAINT contact_email_check CHECK (email ~ '^[^@[:space:]]+@[^@[:space:]]+\.[^@[:space:]]+$'),
    CONSTRAINT contact_language_check CHECK (language ~ '^[a-z]{2}(-[A-Z]{2})?$')
);
COMMENT ON TABLE benefit.contact IS 'A person or organisation known to the ticketing system';
COMMENT ON COLUMN benefit.contact.contact_id IS 'Surrogate key; the contact_id the runtime functions take';
COMMENT ON COLUMN benefit.contact.kind IS 'person or organisation; only organisations receive batches of single-use codes';
COMMENT ON COLUMN benefit.contact.name IS 'Full name of the person, or name of the organisation';
COMMENT ON COLUMN benefit.contact.email IS 'E-mail address (batches of codes are sent to it), or NULL';
COMMENT ON COLUMN benefit.contact.language IS 'Preferred language as an ISO 639-1 code, optionally with a region (fr, en, de-CH)';
COMMENT ON COLUMN benefit.contact.external_ref IS 'Identifier of the contact in another system (CRM), unique when given';
COMMENT ON COLUMN benefit.contact.created_at IS 'When the row was created';
COMMENT ON CONSTRAINT contact_name_check ON benefit.contact IS 'name must not be blank';
COMMENT ON CONSTRAINT contact_email_check ON benefit.contact IS 'email must look like name@domain.tld';
COMMENT ON CONSTRAINT contact_language_check ON benefit.contact IS 'language is an ISO 639-1 code, optionally with a region: fr, en, de-CH';
SELECT pg_catalog.pg_extension_config_dump('benefit.contact', '');
SELECT pg_catalog.pg_extension_config_dump('benefit.contact_contact_id_seq', '');
REVOKE ALL ON TABLE benefit.contact FROM PUBLIC;
REVOKE ALL ON SEQUENCE benefit.contact_contact_id_seq FROM PUBLIC;
GRANT SELECT, DELETE ON benefit.contact TO benefit_admin;
GRANT INSERT (kind, name, email, language, external_ref), UPDATE (kind, name, email, language, external_ref)
    ON benefit.contact TO benefit_admin;

CREATE TABLE benefit.indicator (
    indicator_id bigint GENERATED ALWAYS AS IDENTITY,
    code        text NOT NULL,
    name        text NOT NULL,
    CONSTRAINT indicator_pkey PRIMARY KEY (indicator_id),
    CONSTRAINT indicator_code_key UNIQUE (code),
    CONSTRAINT indicator_code_check CHECK (code ~ '^[A-Za-z0-9][A-Za-z0-9_.-]{0,62}$'),
    CONSTRAINT indicator_name_check CHECK (btrim(name) <> '')
);
COMMENT ON TABLE benefit.indicator IS 'A contact indicator (loyalty tier, subscriber status...) with a set of levels';
COMMENT ON COLUMN benefit.indicator.indicator_id IS 'Surrogate key';
COMMENT ON COLUMN benefit.indicator.code IS 'Stable short code';
COMMENT ON COLUMN benefit.indicator.name IS 'Display name';
COMMENT ON CONSTRAINT indicator_code_check ON benefit.indicator IS 'code: 1 to 63 characters, letters, digits, _ . or -, starting with a letter or digit';
COMMENT ON CONSTRAINT indicator_name_check ON benefit.indicator IS 'name must not be blank';
SELECT pg_catalog.pg_extension_config_dump('benefit.indicator', '');
SELECT pg_catalog.pg_extension_config_dump('benefit.indicator_indicator_id_seq', '');
REVOKE ALL ON TABLE benefit.indicator FROM PUBLIC;
REVOKE ALL ON SEQUENCE benefit.indicator_indicator_id_seq FROM PUBLIC;
GRANT SELECT, INSERT, UPDATE, DELETE ON benefit.indicator TO benefit_admin;

CREATE TABLE benefit.indicator_level (
    level_id    bigint GENERATED ALWAYS AS IDENTITY,
    indicator_id bigint NOT NULL,
    code        text NOT NULL,
    name        text NOT NULL,
    CONSTRAINT indicator_level_pkey PRIMARY KEY (level_id),
    CONSTRAINT indicator_level_indicator_id_code_key UNIQUE (indicator_id, code),
    CONSTRAINT indicator_level_level_id_indicator_id_key UNIQUE (level_id, indicator_id),
    CONSTRAINT indicator_level_code_check CHECK (code ~ '^[A-Za-z0-9][A-Za-z0-9_.-]{0,62}$'),
    CONSTRAINT indicator_level_name_check CHECK (btrim(name) <> ''),
    CONSTRAINT indicator_level_indicator_id_fkey FOREIGN KEY (indicator_id)
        REFERENCES benefit.indicator (indicator_id)
);
COMMENT ON TABLE benefit.indicator_level IS 'One level (value) of an indicator, e.g. gold for the loyalty indicator';
COMMENT ON COLUMN benefit.indicator_level.level_id IS 'Surrogate key';
COMMENT ON COLUMN benefit.indicator_level.indicator_id IS 'The indicator this is a level of';
COMMENT ON COLUMN benefit.indicator_level.code IS 'Short code, unique within the indicator';
COMMENT ON COLUMN benefit.indicator_level.name IS 'Display name';
COMMENT ON CONSTRAINT indicator_level_code_check ON benefit.indicator_level IS 'code: 1 to 63 characters, letters, digits, _ . or -, starting with a letter or digit';
COMMENT ON CONSTRAINT indicator_level_name_check ON benefit.indicator_level IS 'name must not be blank';
SELECT pg_catalog.pg_extension_config_dump('benefit.indicator_level', '');
SELECT pg_catalog.pg_extension_config_dump('benefit.indicator_level_level_id_seq', '');
REVOKE ALL ON TABLE benefit.indicator_level FROM PUBLIC;
REVOKE ALL ON SEQUENCE benefit.indicator_level_level_id_seq FROM PUBLIC;
GRANT SELECT, INSERT, UPDATE, DELETE ON benefit.indicator_level TO benefit_admin;

CREATE TABLE benefit.contact_indicator (
    contact_id  bigint NOT NULL,
    indicator_id bigint NOT NULL,
    level_id    bigint NOT NULL,
    since       timestamptz NOT NULL DEFAULT pg_catalog.now(),
    CONSTRAINT contact_indicator_pkey PRIMARY KEY (contact_id, indicator_id),
    CONSTRAINT contact_indicator_contact_id_fkey FOREIGN KEY (contact_id)
        REFERENCES benefit.contact (contact_id) ON DELETE CASCADE,
    CONSTRAINT contact_indicator_level_id_indicator_id_fkey FOREIGN KEY (level_id, indicator_id)
        REFERENCES benefit.indicator_level (level_id, indicator_id)
);
CREATE INDEX contact_indicator_level_id_idx ON benefit.contact_indicator (level_id);
COMMENT ON TABLE benefit.contact_indicator IS 'The current level of each indicator of a contact (at most one level per indicator); read live by the runtime';
COMMENT ON COLUMN benefit.contact_indicator.contact_id IS 'The contact';
COMMENT ON COLUMN benefit.contact_indicator.indicator_id IS 'The indicator';
COMMENT ON COLUMN benefit.contact_indicator.level_id IS 'The level the contact has now; must be a level of indicator_id';
COMMENT ON COLUMN benefit.contact_indicator.since IS 'Since when the contact has this level';
COMMENT ON INDEX benefit.contact_indicator_level_id_idx IS 'Contacts at a level';
SELECT pg_catalog.pg_extension_config_dump('benefit.contact_indicator', '');
REVOKE ALL ON TABLE benefit.contact_indicator FROM PUBLIC;
GRANT SELECT, INSERT, UPDATE, DELETE ON benefit.contact_indicator TO benefit_admin;
