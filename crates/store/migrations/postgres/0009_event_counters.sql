-- The last two numbers the store took from MAX() + 1 come from the
-- database too: a pool rule's version from its counter, and an
-- application's event number from a counter on the application's own row,
-- which a move updates (and so locks) anyway. Same text for both dialects.

INSERT INTO id_counters (name, next_id) SELECT 'pool_rules', COALESCE(MAX(version), 0) + 1 FROM pool_rules;

ALTER TABLE loan_applications ADD COLUMN last_event_seq BIGINT NOT NULL DEFAULT 0;
UPDATE loan_applications SET last_event_seq =
    (SELECT COALESCE(MAX(e.seq), 0) FROM application_events e WHERE e.application_id = loan_applications.id);
