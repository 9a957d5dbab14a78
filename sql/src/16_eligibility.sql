/*
 * Eligibility: the benefits a buyer may be offered on a channel at a time,
 * with the codes entered (eligibility, one statement; price in C reads it
 * too), what the web shop shows (available) and the box-office gift icon
 * (contacts_with_benefits).  A benefit sold out (quota_exhausted) or whose
 * per-contact limit the buyer used up (contact_quota_exhausted) is reported,
 * and the gift icon lights only for benefits the contact can still use.
 *
 * available is C (src/eligibility.c): the configuration comes from the
 * configuration cache (src/config.c), only the buyer's own rows are read;
 * eligibility below is the same rule in SQL (price reads it in a database
 * not yet updated, whose library has no cache there).
 *
 * The PL/pgSQL functions of the runtime run with plan_cache_mode =
 * force_generic_plan: their statements look rows up by key, and the plan
 * cache otherwise keeps re-planning the larger ones (a custom plan per call
 * cost eligibility ten times its run time).
 */

--------------------------------------------------------------------------
-- Functions
--------------------------------------------------------------------------

-- eligibility keeps its result type: price (src/pricing.c) reads it, and the
-- library serves databases not yet updated, whose eligibility is older
CREATE FUNCTION benefit_internal.eligibility(contact_id bigint, channel text, point_of_sale text, at timestamptz,
                                                       codes text[])
RETURNS TABLE (benefit_id bigint, target_type benefit.target_type, entered_code text,
               single_use_code benefit.code, reason benefit.reason)
LANGUAGE plpgsql STABLE PARALLEL SAFE SECURITY DEFINER ROWS 20
SET search_path = pg_catalog, pg_temp
SET plan_cache_mode = force_generic_plan
AS $$
DECLARE
    v_sale record;
    v_at timestamptz := coalesce(eligibility.at, clock_timestamp());
BEGIN
    SELECT * INTO v_sale FROM benefit_internal.resolve_sale(eligibility.channel, eligibility.point_of_sale, eligibility.contact_id);
    IF cardinality(eligibility.codes) > 100 THEN
        RAISE EXCEPTION 'at most 100 codes may be entered at once, not %', cardinality(eligibility.codes)
              USING ERRCODE = 'program_limit_exceeded';
    END IF;
    RETURN QUERY
    WITH entered AS (
        SELECT DISTINCT btrim(e) AS e
          FROM unnest(eligibility.codes) e
         WHERE e IS NOT NULL AND btrim(e) <> ''
    ), rd AS (
        SELECT r.entered AS e, r.kind, r.benefit_id, r.code
          FROM (SELECT array_agg(en.e) AS texts FROM entered en) a
         CROSS JOIN LATERAL benefit_internal.read_codes(a.texts) r
    ), su AS (
        SELECT rd.e, c.code, c.benefit_id, c.state, c.hold_until
          FROM rd
          JOIN benefit.single_use_code c ON c.code OPERATOR(benefit.=) rd.code
         WHERE rd.kind = 'single_use'
    ), partner AS (
        SELECT DISTINCT ON (rd.benefit_id) rd.e, rd.benefit_id
          FROM rd
         WHERE rd.kind = 'partner'
         ORDER BY rd.benefit_id, rd.e
    ), cand AS (
        SELECT b.benefit_id, NULL::text AS e, NULL::benefit.code AS code, NULL::benefit.code_state AS state,
               NULL::timestamptz AS hold_until
          FROM benefit.benefit b WHERE b.target_type = 'public' AND b.status = 'live'
        UNION ALL
        SELECT b.benefit_id, NULL, NULL, NULL, NULL
          FROM benefit.campaign_target ct
          JOIN benefit.benefit b ON b.campaign_id = ct.campaign_id AND b.target_type = 'contacts' AND b.status = 'live'
         WHERE ct.contact_id = eligibility.contact_id
        UNION ALL
        SELECT b.benefit_id, NULL, NULL, NULL, NULL
          FROM benefit.contact_indicator ci
          JOIN benefit.benefit b ON b.indicator_level_id = ci.level_id AND b.target_type = 'indicator' AND b.status = 'live'
         WHERE ci.contact_id = eligibility.contact_id
        UNION ALL
        SELECT p.benefit_id, p.e, NULL, NULL, NULL FROM partner p
        UNION ALL
        SELECT su.benefit_id, su.e, su.code, su.state, su.hold_until FROM su
    )
    -- the one rule of a use (benefit_internal.use_reason, src/use_rule.c) on the facts of each
    -- candidate; the quota figures are looked up only for a benefit that has a limit
    SELECT b.benefit_id, b.target_type, cand.e, cand.code,
           benefit_internal.use_reason(
               cand.state::text, false, cand.hold_until, b.status = 'live', b.valid_from, b.valid_until,
               true,
               b.all_channels OR EXISTS (SELECT 1 FROM benefit.benefit_channel bc
                                          WHERE bc.benefit_id = b.benefit_id AND bc.channel_id = v_sale.channel_id),
               v_sale.channel_kind = 'web', b.point_of_sale_id IS NOT NULL,
               b.point_of_sale_id IS NOT DISTINCT FROM v_sale.point_of_sale_id,
               q.total_left, q.contact_left, 1, v_at)
      FROM cand
      JOIN benefit.benefit b ON b.benefit_id = cand.benefit_id
      LEFT JOIN LATERAL (SELECT u.total_left, u.contact_left
                           FROM benefit_internal.units_left(b.benefit_id, eligibility.contact_id) u
                          WHERE b.quota_total IS NOT NULL OR b.quota_per_contact IS NOT NULL) q ON true
    UNION ALL
    SELECT NULL, NULL, rd.e, NULL, 'unknown_code'::benefit.reason
      FROM rd
     WHERE rd.kind = 'unknown'
        OR (rd.kind = 'single_use' AND NOT EXISTS (SELECT 1 FROM su WHERE su.e = rd.e));
END
$$;
COMMENT ON FUNCTION benefit_internal.eligibility(bigint, text, text, timestamptz, text[]) IS
    'The benefits a buyer may be offered on a channel (and web point of sale) at a time, with the codes entered (read by benefit_internal.read_codes): live public benefits, the contact''s contacts and indicator benefits (target list and indicator level read now), and every benefit an entered partner or single-use code points to; each with ok or the reason it cannot be used (quota_exhausted when sold out, contact_quota_exhausted when the contact''s own limit is used up: benefit_internal.units_left); entered codes that match nothing come back as unknown_code; the references are checked by benefit_internal.resolve_sale';
REVOKE ALL ON FUNCTION benefit_internal.eligibility(bigint, text, text, timestamptz, text[]) FROM PUBLIC;

CREATE FUNCTION benefit.available(contact_id bigint, channel text, at timestamptz DEFAULT NULL,
                                             codes text[] DEFAULT NULL, point_of_sale text DEFAULT NULL,
                                             client_key text DEFAULT NULL)
RETURNS TABLE (benefit_id bigint, benefit_code text, name text, target_type benefit.target_type,
               entered_code text, reason benefit.reason, valid_until timestamptz,
               quota_left integer, tariffs jsonb)
AS 'MODULE_PATHNAME', 'benefit_available'
LANGUAGE C VOLATILE PARALLEL UNSAFE SECURITY DEFINER;
COMMENT ON FUNCTION benefit.available(bigint, text, timestamptz, text[], text, text) IS
    '(C, src/eligibility.c, on the configuration cache) The benefits a buyer (NULL contact: anonymous) may use now on a channel (and web point of sale), given the codes entered: each usable one with its target type, validity end, the units this buyer may still take (NULL: no limit) and its tariff rows (products); then those the buyer can no longer use (quota_exhausted: sold out; contact_quota_exhausted: the contact''s own limit used up) and every entered code that unlocks nothing, with their reason; 22023 for an unknown channel or point of sale, P0002 for an unknown contact';
REVOKE ALL ON FUNCTION benefit.available(bigint, text, timestamptz, text[], text, text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION benefit.available(bigint, text, timestamptz, text[], text, text) TO benefit_sales, benefit_admin;

CREATE FUNCTION benefit.contacts_with_benefits(contact_ids bigint[], channel text, at timestamptz DEFAULT NULL)
RETURNS TABLE (contact_id bigint, benefits integer)
LANGUAGE plpgsql STABLE PARALLEL SAFE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
SET plan_cache_mode = force_generic_plan
AS $$
DECLARE
    v_channel_id bigint := (benefit_internal.resolve_sale(contacts_with_benefits.channel, NULL, NULL)).channel_id;
    v_at timestamptz := coalesce(contacts_with_benefits.at, clock_timestamp());
BEGIN
    IF cardinality(contacts_with_benefits.contact_ids) > 10000 THEN
        RAISE EXCEPTION 'at most 10000 contacts at once, not %', cardinality(contacts_with_benefits.contact_ids)
              USING ERRCODE = 'program_limit_exceeded';
    END IF;
    -- an id of no contact is skipped, not refused: a screen of contacts read from another system
    -- may show one deleted or merged since, and it has no personal benefit (the icon stays off)
    RETURN QUERY
    WITH ids AS (
        SELECT DISTINCT u.id FROM unnest(contacts_with_benefits.contact_ids) u(id) WHERE u.id IS NOT NULL
    ), personal AS (
        SELECT ids.id, b.benefit_id, b.valid_from, b.valid_until, b.all_channels,
               b.quota_total IS NOT NULL OR b.quota_per_contact IS NOT NULL AS limited
          FROM ids
          JOIN benefit.campaign_target ct ON ct.contact_id = ids.id
          JOIN benefit.benefit b ON b.campaign_id = ct.campaign_id AND b.target_type = 'contacts' AND b.status = 'live'
        UNION ALL
        SELECT ids.id, b.benefit_id, b.valid_from, b.valid_until, b.all_channels,
               b.quota_total IS NOT NULL OR b.quota_per_contact IS NOT NULL
          FROM ids
          JOIN benefit.contact_indicator ci ON ci.contact_id = ids.id
          JOIN benefit.benefit b ON b.indicator_level_id = ci.level_id AND b.target_type = 'indicator' AND b.status = 'live'
    ), usable AS (
        SELECT p.id, p.benefit_id, p.limited
          FROM personal p
         WHERE (p.valid_from IS NULL OR p.valid_from <= v_at)
           AND (p.valid_until IS NULL OR p.valid_until > v_at)
           AND (p.all_channels OR EXISTS (SELECT 1 FROM benefit.benefit_channel bc
                                           WHERE bc.benefit_id = p.benefit_id AND bc.channel_id = v_channel_id))
    )
    SELECT x.id, count(DISTINCT x.benefit_id)::integer
      FROM usable x
     -- not sold out, and the contact's own limit not used up (eligibility's quota reasons), looked
     -- up only for a benefit with a limit
     WHERE CASE WHEN NOT x.limited THEN true
                ELSE (SELECT q.total_left IS DISTINCT FROM 0 AND q.contact_left IS DISTINCT FROM 0
                        FROM benefit_internal.units_left(x.benefit_id, x.id) q) END
     GROUP BY x.id
     ORDER BY x.id;
END
$$;
COMMENT ON FUNCTION benefit.contacts_with_benefits(bigint[], text, timestamptz) IS
    'The box-office gift icon: of a list of contacts (up to 10,000), those with a personal benefit (contacts or indicator target) they can still use now on the channel (live, valid, on the channel, not sold out, their own limit not used up), with how many; one set-based call; ids of no contact are skipped';
REVOKE ALL ON FUNCTION benefit.contacts_with_benefits(bigint[], text, timestamptz) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION benefit.contacts_with_benefits(bigint[], text, timestamptz) TO benefit_sales, benefit_admin;
