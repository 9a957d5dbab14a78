-- 01_venue.sql: the venue and its catalogue for the demo season.
--
-- Théâtre du Lac, a fictional lakeside theatre, season "2026-27":
-- the season, the sales channels and the web shop, the product families,
-- four productions with their performances, a membership card and two
-- goods, the seat categories, the audiences and the base prices.
--
-- Plain INSERTs as a DBA would write them: rows refer to one another by
-- their code, never by id (ids are generated).  Money is in cents.
-- Load after CREATE EXTENSION benefit, before 02_contacts.sql.

-- The season ------------------------------------------------------------

INSERT INTO benefit.season (code, name, starts_on, ends_on)
VALUES ('2026-27', 'Saison 2026-27', '2026-09-01', '2027-06-30');

-- Sales channels and the web shop ---------------------------------------

INSERT INTO benefit.sales_channel (code, name, kind)
VALUES ('box-office',  'Guichet du théâtre',        'box_office'),
       ('web',         'Vente internet',            'web'),
       ('call-centre', 'Réservation par téléphone', 'call_centre');

-- The web shop lives in the web channel (channel_kind defaults to web).
INSERT INTO benefit.point_of_sale (code, name, channel_id)
SELECT 'shop', 'Billetterie en ligne theatredulac.example', c.channel_id
  FROM benefit.sales_channel c
 WHERE c.code = 'web';

-- Catalogue: families, products, performances ---------------------------

INSERT INTO benefit.product_family (code, name)
VALUES ('tickets',     'Billets de spectacle'),
       ('memberships', 'Cartes et adhésions'),
       ('goods',       'Boutique');

INSERT INTO benefit.product (code, name, family_id, season_id)
SELECT v.code, v.name, f.family_id, s.season_id
  FROM (VALUES ('cyrano',         'Cyrano de Bergerac (Rostand)',       'tickets'),
               ('casse-noisette', 'Casse-Noisette (ballet)',            'tickets'),
               ('flute',          'La Flûte enchantée (Mozart)',        'tickets'),
               ('mouette',        'La Mouette (Tchekhov)',              'tickets'),
               ('carte-amis',     'Carte Amis du Théâtre 2026-27',      'memberships'),
               ('programme',      'Programme de saison',                'goods'),
               ('tote-bag',       'Sac en toile du Théâtre du Lac',     'goods'))
       AS v (code, name, family)
  JOIN benefit.product_family f ON f.code = v.family
  JOIN benefit.season s ON s.code = '2026-27';

-- Times are local to the theatre; ends_at is left NULL when not announced.
INSERT INTO benefit.performance (code, product_id, starts_at, ends_at)
SELECT v.code, p.product_id, v.starts_at::timestamptz, v.ends_at::timestamptz
  FROM (VALUES ('cyrano-2026-10-08',         'cyrano',         '2026-10-08 20:00 Europe/Paris', '2026-10-08 22:45 Europe/Paris'),
               ('cyrano-2026-10-09',         'cyrano',         '2026-10-09 20:00 Europe/Paris', '2026-10-09 22:45 Europe/Paris'),
               ('cyrano-2026-10-11',         'cyrano',         '2026-10-11 15:00 Europe/Paris', '2026-10-11 17:45 Europe/Paris'),
               ('casse-noisette-2026-12-18', 'casse-noisette', '2026-12-18 20:00 Europe/Paris', '2026-12-18 22:00 Europe/Paris'),
               ('casse-noisette-2026-12-20', 'casse-noisette', '2026-12-20 15:00 Europe/Paris', '2026-12-20 17:00 Europe/Paris'),
               ('casse-noisette-2026-12-23', 'casse-noisette', '2026-12-23 15:00 Europe/Paris', '2026-12-23 17:00 Europe/Paris'),
               ('flute-2027-01-22',          'flute',          '2027-01-22 19:30 Europe/Paris', '2027-01-22 22:30 Europe/Paris'),
               ('flute-2027-01-24',          'flute',          '2027-01-24 15:00 Europe/Paris', '2027-01-24 18:00 Europe/Paris'),
               ('flute-2027-01-27',          'flute',          '2027-01-27 19:30 Europe/Paris', '2027-01-27 22:30 Europe/Paris'),
               ('flute-2027-01-29',          'flute',          '2027-01-29 19:30 Europe/Paris', '2027-01-29 22:30 Europe/Paris'),
               ('mouette-2027-03-12',        'mouette',        '2027-03-12 20:00 Europe/Paris', NULL),
               ('mouette-2027-03-14',        'mouette',        '2027-03-14 17:00 Europe/Paris', NULL))
       AS v (code, product, starts_at, ends_at)
  JOIN benefit.product p ON p.code = v.product;

-- Seat categories and audiences -----------------------------------------

INSERT INTO benefit.seat_category (code, name)
VALUES ('stalls',  'Parterre'),
       ('balcony', 'Balcon');

INSERT INTO benefit.audience (code, name)
VALUES ('adult',   'Plein tarif'),
       ('child',   'Enfant (moins de 12 ans)'),
       ('student', 'Étudiant (moins de 26 ans)'),
       ('senior',  'Senior (65 ans et plus)');

-- Base prices -----------------------------------------------------------

-- Tickets: one line per production and seat category, one column per
-- audience, unpivoted into product x seat category x audience rows.
INSERT INTO benefit.base_price (product_id, seat_category_id, audience_id, price_cents)
SELECT p.product_id, sc.seat_category_id, a.audience_id, x.price_cents
  FROM (VALUES ('cyrano',         'stalls',  4200, 1500, 2000, 3600),
               ('cyrano',         'balcony', 2800, 1200, 1500, 2400),
               ('casse-noisette', 'stalls',  5500, 2200, 2800, 4800),
               ('casse-noisette', 'balcony', 3800, 1800, 2000, 3200),
               ('flute',          'stalls',  6800, 2500, 3000, 5800),
               ('flute',          'balcony', 4500, 2000, 2200, 3800),
               ('mouette',        'stalls',  3800, 1400, 1800, 3200),
               ('mouette',        'balcony', 2600, 1000, 1400, 2200))
       AS v (product, seat_category, adult, child, student, senior)
 CROSS JOIN LATERAL (VALUES ('adult',   v.adult),
                            ('child',   v.child),
                            ('student', v.student),
                            ('senior',  v.senior)) AS x (audience, price_cents)
  JOIN benefit.product p ON p.code = v.product
  JOIN benefit.seat_category sc ON sc.code = v.seat_category
  JOIN benefit.audience a ON a.code = x.audience;

-- The membership card has an adult and a student price; goods have one
-- price whatever the seat or audience (NULL dimension: any).
INSERT INTO benefit.base_price (product_id, audience_id, price_cents)
SELECT p.product_id, a.audience_id, v.price_cents
  FROM (VALUES ('carte-amis', 'adult',   3000),
               ('carte-amis', 'student', 1500))
       AS v (product, audience, price_cents)
  JOIN benefit.product p ON p.code = v.product
  JOIN benefit.audience a ON a.code = v.audience;

INSERT INTO benefit.base_price (product_id, price_cents)
SELECT p.product_id, v.price_cents
  FROM (VALUES ('programme', 800),
               ('tote-bag',  1500))
       AS v (product, price_cents)
  JOIN benefit.product p ON p.code = v.product;
