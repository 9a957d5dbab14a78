-- 0.3.0, JSON clients (sql/src/19_json_clients.sql): the comment of the type
-- that moved.

COMMENT ON TYPE benefit_internal.call_args IS
    'The arguments of a runtime call read from JSON by benefit_internal.parse_call, named as the typed calls name them (internal)';

-- the refund reference of benefit.refund(jsonb)
ALTER TYPE benefit_internal.call_args ADD ATTRIBUTE refund_ref text;
