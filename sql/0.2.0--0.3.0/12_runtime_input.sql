-- 0.3.0, the input of a runtime call (sql/src/12_runtime_input.sql): the
-- unused channel_id dropped.

-- channel_id has had no caller since 0.2.0 (resolve_sale checks a channel).
DROP FUNCTION benefit_internal.channel_id(text);
