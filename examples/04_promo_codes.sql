-- 04_promo_codes.sql: the promo codes (coupons) of the demo season.
--
-- A promo code is typed by the buyer and takes a discount off the whole
-- basket.  Three codes: a welcome percentage usable everywhere, a
-- Christmas amount for subscribers with a minimum basket and use limits,
-- and a student code prepared but not yet switched on.
-- Load after 02_contacts.sql (the subscriber indicator level).

INSERT INTO benefit.promo_code
    (code, name, season_id, percent_off, all_channels, max_uses_per_contact)
SELECT 'BIENVENUE10', 'Bienvenue: 10 % sur votre première commande', s.season_id,
       10.00, TRUE, 1
  FROM benefit.season s
 WHERE s.code = '2026-27';

-- 15 € off a basket of at least 80 € (after line benefits), subscribers
-- only, in December; 500 uses in all, twice per contact; web and phone.
INSERT INTO benefit.promo_code
    (code, name, season_id, amount_off_cents, valid_from, valid_until,
     min_basket_cents, indicator_level_id, max_uses_total, max_uses_per_contact)
SELECT 'NOEL15', 'Noël des abonnés: 15 € dès 80 €', s.season_id,
       1500, '2026-12-01 00:00 Europe/Paris', '2027-01-01 00:00 Europe/Paris',
       8000, l.level_id, 500, 2
  FROM benefit.season s
  JOIN benefit.indicator i ON i.code = 'subscriber'
  JOIN benefit.indicator_level l ON l.indicator_id = i.indicator_id AND l.code = 'yes'
 WHERE s.code = '2026-27';

-- Prepared for the spring campus week, switched off until then.
INSERT INTO benefit.promo_code
    (code, name, season_id, amount_off_cents, valid_from, valid_until,
     min_basket_cents, max_uses_total, is_active)
SELECT 'CAMPUS5', 'Semaine des campus: 5 € dès 20 €', s.season_id,
       500, '2027-03-01 00:00 Europe/Paris', '2027-03-15 00:00 Europe/Paris',
       2000, 1000, FALSE
  FROM benefit.season s
 WHERE s.code = '2026-27';

-- Channels of the codes not sold on all channels.
INSERT INTO benefit.promo_code_channel (promo_code_id, channel_id)
SELECT pc.promo_code_id, c.channel_id
  FROM (VALUES ('NOEL15',  'web'),
               ('NOEL15',  'call-centre'),
               ('CAMPUS5', 'web'))
       AS v (promo_code, channel)
  JOIN benefit.promo_code pc ON pc.code = v.promo_code
  JOIN benefit.sales_channel c ON c.code = v.channel;
