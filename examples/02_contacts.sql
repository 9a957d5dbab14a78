-- 02_contacts.sql: the contacts of the demo season and what is known of them.
--
-- Persons and organisations (with e-mail and preferred language; one
-- organisation has no e-mail), two indicators with their levels, each
-- contact's current levels, and the autumn marketing campaign with its
-- target list.  Contacts are found by their CRM reference (external_ref).
-- Load after 01_venue.sql.

-- Contacts --------------------------------------------------------------

INSERT INTO benefit.contact (kind, name, email, language, external_ref)
VALUES ('person',       'Camille Martin',            'camille.martin@example.fr',       'fr',    'CRM-10001'),
       ('person',       'Jean Dupont',               'jean.dupont@example.fr',          'fr',    'CRM-10002'),
       ('person',       'Léa Moreau',                'lea.moreau@example.fr',           'fr',    'CRM-10003'),
       ('person',       'Lukas Meier',               'lukas.meier@example.ch',          'de-CH', 'CRM-10004'),
       ('person',       'Olivia Bennett',            'olivia.bennett@example.co.uk',    'en',    'CRM-10005'),
       ('person',       'Giulia Rossi',              'giulia.rossi@example.it',         'it',    'CRM-10006'),
       ('person',       'Hugo Bernard',              NULL,                              'fr',    'CRM-10007'),
       ('organisation', 'CE Alpina SA',              'ce@alpina.example.fr',            'fr',    'CRM-20001'),
       ('organisation', 'Hôtel Beau-Rivage',         'concierge@beau-rivage.example',   'fr',    'CRM-20002'),
       ('organisation', 'Office de Tourisme du Lac', NULL,                              'fr',    'CRM-20003'),
       ('organisation', 'Bodensee Reisen GmbH',      'gruppen@bodensee-reisen.example', 'de',    'CRM-20004');

-- Indicators and their levels -------------------------------------------

INSERT INTO benefit.indicator (code, name)
VALUES ('loyalty',    'Fidélité'),
       ('subscriber', 'Abonné de la saison');

INSERT INTO benefit.indicator_level (indicator_id, code, name)
SELECT i.indicator_id, v.code, v.name
  FROM (VALUES ('loyalty',    'bronze', 'Bronze'),
               ('loyalty',    'silver', 'Argent'),
               ('loyalty',    'gold',   'Or'),
               ('subscriber', 'yes',    'Abonné'))
       AS v (indicator, code, name)
  JOIN benefit.indicator i ON i.code = v.indicator;

-- Each contact's current level of each indicator (at most one per indicator).
INSERT INTO benefit.contact_indicator (contact_id, indicator_id, level_id)
SELECT c.contact_id, l.indicator_id, l.level_id
  FROM (VALUES ('CRM-10001', 'loyalty',    'gold'),
               ('CRM-10001', 'subscriber', 'yes'),
               ('CRM-10002', 'loyalty',    'silver'),
               ('CRM-10002', 'subscriber', 'yes'),
               ('CRM-10003', 'loyalty',    'bronze'),
               ('CRM-10004', 'loyalty',    'gold'),
               ('CRM-10005', 'subscriber', 'yes'),
               ('CRM-10006', 'loyalty',    'silver'))
       AS v (external_ref, indicator, level)
  JOIN benefit.contact c ON c.external_ref = v.external_ref
  JOIN benefit.indicator i ON i.code = v.indicator
  JOIN benefit.indicator_level l ON l.indicator_id = i.indicator_id AND l.code = v.level;

-- The autumn campaign and its target list -------------------------------

INSERT INTO benefit.campaign (code, name, season_id)
SELECT 'rentree-2026', 'Mailing de rentrée 2026', s.season_id
  FROM benefit.season s
 WHERE s.code = '2026-27';

INSERT INTO benefit.campaign_target (campaign_id, contact_id)
SELECT k.campaign_id, c.contact_id
  FROM benefit.campaign k
  JOIN benefit.contact c
    ON c.external_ref IN ('CRM-10002', 'CRM-10003', 'CRM-10005', 'CRM-10007')
 WHERE k.code = 'rentree-2026';
