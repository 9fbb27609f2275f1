-- The audit log's sequence numbers come from its id counter, advanced in
-- the appending transaction (its row lock orders appenders on PostgreSQL).
INSERT INTO id_counters (name, next_id) SELECT 'audit_log', COALESCE(MAX(seq), 0) + 1 FROM audit_log;
