/*
 * Campaigns: a marketing campaign and its target list (cible opération),
 * the contacts who may use its contacts benefits; the list may change while
 * its benefits are live.
 */

--------------------------------------------------------------------------
-- Tables
--------------------------------------------------------------------------

CREATE TABLE benefit.campaign (
    campaign_id bigint GENERATED ALWAYS AS IDENTITY,
    code        text NOT NULL,
    name        text NOT NULL,
    season_id   bigint,
    CONSTRAINT campaign_pkey PRIMARY KEY (campaign_id),
    CONSTRAINT campaign_code_key UNIQUE (code),
    CONSTRAINT campaign_code_check CHECK (code ~ '^[A-Za-z0-9][A-Za-z0-9_.-]{0,62}$'),
    CONSTRAINT campaign_name_check CHECK (btrim(name) <> ''),
    CONSTRAINT campaign_season_id_fkey FOREIGN KEY (season_id) REFERENCES benefit.season (season_id)
);
COMMENT ON TABLE benefit.campaign IS 'A marketing campaign; its target list says who may use its contacts benefits';
COMMENT ON COLUMN benefit.campaign.campaign_id IS 'Surrogate key';
COMMENT ON COLUMN benefit.campaign.code IS 'Stable short code';
COMMENT ON COLUMN benefit.campaign.name IS 'Display name';
COMMENT ON COLUMN benefit.campaign.season_id IS 'Season of the campaign, or NULL when it spans seasons';
COMMENT ON CONSTRAINT campaign_code_check ON benefit.campaign IS 'code: 1 to 63 characters, letters, digits, _ . or -, starting with a letter or digit';
COMMENT ON CONSTRAINT campaign_name_check ON benefit.campaign IS 'name must not be blank';
SELECT pg_catalog.pg_extension_config_dump('benefit.campaign', '');
SELECT pg_catalog.pg_extension_config_dump('benefit.campaign_campaign_id_seq', '');
REVOKE ALL ON TABLE benefit.campaign FROM PUBLIC;
REVOKE ALL ON SEQUENCE benefit.campaign_campaign_id_seq FROM PUBLIC;
GRANT SELECT, INSERT, UPDATE, DELETE ON benefit.campaign TO benefit_admin;

CREATE TABLE benefit.campaign_target (
    campaign_id bigint NOT NULL,
    contact_id  bigint NOT NULL,
    added_at    timestamptz NOT NULL DEFAULT pg_catalog.now(),
    CONSTRAINT campaign_target_pkey PRIMARY KEY (campaign_id, contact_id),
    CONSTRAINT campaign_target_campaign_id_fkey FOREIGN KEY (campaign_id)
        REFERENCES benefit.campaign (campaign_id) ON DELETE CASCADE,
    CONSTRAINT campaign_target_contact_id_fkey FOREIGN KEY (contact_id)
        REFERENCES benefit.contact (contact_id) ON DELETE CASCADE
);
CREATE INDEX campaign_target_contact_id_idx ON benefit.campaign_target (contact_id);
COMMENT ON TABLE benefit.campaign_target IS 'The target list of a campaign (cible opération); may change while its benefits are live';
COMMENT ON COLUMN benefit.campaign_target.campaign_id IS 'The campaign';
COMMENT ON COLUMN benefit.campaign_target.contact_id IS 'A targeted contact';
COMMENT ON COLUMN benefit.campaign_target.added_at IS 'When the contact was added to the list';
COMMENT ON INDEX benefit.campaign_target_contact_id_idx IS 'Campaigns of a contact';
SELECT pg_catalog.pg_extension_config_dump('benefit.campaign_target', '');
REVOKE ALL ON TABLE benefit.campaign_target FROM PUBLIC;
GRANT SELECT, INSERT, UPDATE, DELETE ON benefit.campaign_target TO benefit_admin;
