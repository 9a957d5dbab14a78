-- 03_benefits.sql: the benefits of the demo season, inserted as draft.
--
-- One benefit per target type (public, contacts, indicator, partner,
-- single_use) with its tariff rows (fixed price, amount off, percent off),
-- its channels (all, or a list in benefit_channel), its validity window
-- and its quotas.  A second partner benefit, for the tourist office, is
-- deliberately left incomplete: walkthrough.sql shows go_live refusing it
-- and listing what is missing, then completes it.
-- Nothing goes live here: walkthrough.sql drives the lifecycle.
-- Load after 02_contacts.sql.

-- The benefits (header rows) --------------------------------------------

-- public: anyone, anonymous included; sold on every channel; no validity
-- limit (the performances end it); at most 6 tickets per order and
-- 120 per performance, 300 in all.
INSERT INTO benefit.benefit
    (code, name, description, season_id, target_type, all_channels,
     quota_total, quota_per_performance, quota_per_order)
SELECT 'famille-casse-noisette', 'Casse-Noisette en famille',
       'Enfants à 10 € sur toutes les séances; adultes -20 % à la matinée du dimanche 20 décembre.',
       s.season_id, 'public', TRUE,
       300, 120, 6
  FROM benefit.season s
 WHERE s.code = '2026-27';

-- contacts: the target list of the autumn mailing; web and telephone;
-- the whole season; 4 tickets per contact.
INSERT INTO benefit.benefit
    (code, name, description, season_id, target_type, campaign_id,
     valid_from, valid_until, quota_per_contact)
SELECT 'mailing-rentree', 'Mailing de rentrée: -20 % théâtre',
       '20 % de réduction sur Cyrano et La Mouette pour les destinataires du mailing de rentrée.',
       s.season_id, 'contacts', k.campaign_id,
       '2026-09-01 00:00 Europe/Paris', NULL, 4
  FROM benefit.season s
  JOIN benefit.campaign k ON k.code = 'rentree-2026'
 WHERE s.code = '2026-27';

-- indicator: contacts whose loyalty level is gold at the time of sale;
-- from the start of the season, no end; 40 per performance, 6 per contact.
INSERT INTO benefit.benefit
    (code, name, description, season_id, target_type, indicator_level_id,
     valid_from, quota_per_performance, quota_per_contact)
SELECT 'fidelite-or', 'Fidélité Or: La Flûte enchantée',
       'Membres Or: 10 € de moins au parterre, 8 € au balcon; programme de saison à moitié prix.',
       s.season_id, 'indicator', l.level_id,
       '2026-09-01 00:00 Europe/Paris', 40, 6
  FROM benefit.season s
  JOIN benefit.indicator i ON i.code = 'loyalty'
  JOIN benefit.indicator_level l ON l.indicator_id = i.indicator_id AND l.code = 'gold'
 WHERE s.code = '2026-27';

-- partner: one access code the hotel gives its guests; box office and web;
-- October to the end of the season; 200 tickets in all, 4 per order.
INSERT INTO benefit.benefit
    (code, name, description, season_id, target_type, access_code,
     valid_from, valid_until, quota_total, quota_per_order)
SELECT 'hotel-beau-rivage', 'Partenaire Hôtel Beau-Rivage',
       'Tarif partenaire au parterre pour les clients de l''hôtel, sur présentation du code.',
       s.season_id, 'partner', 'BEAURIVAGE26',
       '2026-10-01 00:00 Europe/Paris', NULL, 200, 4
  FROM benefit.season s
 WHERE s.code = '2026-27';

-- single_use: codes handed out by the Alpina works council, one code per
-- order, each for two seats (units_per_code); active on the web shop (and
-- at the box office); from November, no end; 500 tickets in all, 2 per
-- order and 2 per contact.
INSERT INTO benefit.benefit
    (code, name, description, season_id, target_type, point_of_sale_id,
     valid_from, quota_total, quota_per_contact, quota_per_order, units_per_code)
SELECT 'ce-alpina', 'CE Alpina: places à tarif réduit',
       'Codes à usage unique distribués par le CE Alpina SA à ses salariés.',
       s.season_id, 'single_use', pos.point_of_sale_id,
       '2026-11-01 00:00 Europe/Paris', 500, 2, 2, 2
  FROM benefit.season s
  JOIN benefit.point_of_sale pos ON pos.code = 'shop'
 WHERE s.code = '2026-27';

-- partner, deliberately incomplete: no access code, no quota, no channel,
-- no tariff row yet (the tourist office has not signed yet).
INSERT INTO benefit.benefit (code, name, season_id, target_type)
SELECT 'office-tourisme', 'Partenaire Office de Tourisme du Lac', s.season_id, 'partner'
  FROM benefit.season s
 WHERE s.code = '2026-27';

-- Channels (benefits without all_channels) ------------------------------

INSERT INTO benefit.benefit_channel (benefit_id, channel_id)
SELECT b.benefit_id, c.channel_id
  FROM (VALUES ('mailing-rentree',   'web'),
               ('mailing-rentree',   'call-centre'),
               ('fidelite-or',       'box-office'),
               ('fidelite-or',       'web'),
               ('fidelite-or',       'call-centre'),
               ('hotel-beau-rivage', 'box-office'),
               ('hotel-beau-rivage', 'web'),
               ('ce-alpina',         'web'),
               ('ce-alpina',         'box-office'))
       AS v (benefit, channel)
  JOIN benefit.benefit b ON b.code = v.benefit
  JOIN benefit.sales_channel c ON c.code = v.channel;

-- Tariff rows -----------------------------------------------------------

-- One row per product x seat category x audience (x performance); NULL in
-- a dimension means any.  Exactly one of price_cents, amount_off_cents,
-- percent_off per row.
INSERT INTO benefit.benefit_tariff
    (benefit_id, product_id, performance_id, seat_category_id, audience_id,
     price_cents, amount_off_cents, percent_off)
SELECT b.benefit_id, p.product_id, pf.performance_id, sc.seat_category_id, a.audience_id,
       v.price_cents, v.amount_off_cents, v.percent_off
  FROM (VALUES
            -- benefit                 product           performance                  seat       audience   price  off    %
            ('famille-casse-noisette', 'casse-noisette', NULL,                        NULL,      'child',   1000,  NULL,  NULL),
            ('famille-casse-noisette', 'casse-noisette', 'casse-noisette-2026-12-20', NULL,      'adult',   NULL,  NULL,  20.00),
            ('mailing-rentree',        'cyrano',         NULL,                        NULL,      NULL,      NULL,  NULL,  20.00),
            ('mailing-rentree',        'mouette',        NULL,                        NULL,      NULL,      NULL,  NULL,  20.00),
            ('fidelite-or',            'flute',          NULL,                        'stalls',  NULL,      NULL,  1000,  NULL),
            ('fidelite-or',            'flute',          NULL,                        'balcony', NULL,      NULL,  800,   NULL),
            ('fidelite-or',            'programme',      NULL,                        NULL,      NULL,      NULL,  NULL,  50.00),
            ('hotel-beau-rivage',      'cyrano',         NULL,                        'stalls',  'adult',   3400,  NULL,  NULL),
            ('hotel-beau-rivage',      'casse-noisette', NULL,                        'stalls',  'adult',   4500,  NULL,  NULL),
            ('hotel-beau-rivage',      'flute',          NULL,                        'stalls',  'adult',   5500,  NULL,  NULL),
            ('ce-alpina',              'cyrano',         NULL,                        NULL,      'adult',   2500,  NULL,  NULL),
            ('ce-alpina',              'mouette',        NULL,                        NULL,      'adult',   2500,  NULL,  NULL),
            ('ce-alpina',              'flute',          NULL,                        NULL,      'adult',   NULL,  NULL,  30.00))
       AS v (benefit, product, performance, seat_category, audience,
             price_cents, amount_off_cents, percent_off)
  JOIN benefit.benefit b ON b.code = v.benefit
  JOIN benefit.product p ON p.code = v.product
  LEFT JOIN benefit.performance pf ON pf.code = v.performance
  LEFT JOIN benefit.seat_category sc ON sc.code = v.seat_category
  LEFT JOIN benefit.audience a ON a.code = v.audience;
