-- Ids from the database: every table whose ids the store assigns takes
-- them from its counter here, advanced in one UPDATE ... RETURNING inside
-- the inserting transaction (a row lock on PostgreSQL, the one writer on
-- SQLite), so concurrent inserts never receive the same id. The counter
-- starts after the ids already stored. Same text for both dialects.

CREATE TABLE id_counters (
    name TEXT PRIMARY KEY,
    next_id BIGINT NOT NULL
);

INSERT INTO id_counters (name, next_id) SELECT 'users', COALESCE(MAX(id), 0) + 1 FROM users;
INSERT INTO id_counters (name, next_id) SELECT 'api_tokens', COALESCE(MAX(id), 0) + 1 FROM api_tokens;
INSERT INTO id_counters (name, next_id) SELECT 'authorisations', COALESCE(MAX(id), 0) + 1 FROM authorisations;
INSERT INTO id_counters (name, next_id) SELECT 'data_accesses', COALESCE(MAX(id), 0) + 1 FROM data_accesses;
INSERT INTO id_counters (name, next_id) SELECT 'loan_products', COALESCE(MAX(id), 0) + 1 FROM loan_products;
INSERT INTO id_counters (name, next_id) SELECT 'financing_demands', COALESCE(MAX(id), 0) + 1 FROM financing_demands;
INSERT INTO id_counters (name, next_id) SELECT 'loan_applications', COALESCE(MAX(id), 0) + 1 FROM loan_applications;
INSERT INTO id_counters (name, next_id) SELECT 'inspection_tasks', COALESCE(MAX(id), 0) + 1 FROM inspection_tasks;
INSERT INTO id_counters (name, next_id) SELECT 'enterprise_visits', COALESCE(MAX(id), 0) + 1 FROM enterprise_visits;
INSERT INTO id_counters (name, next_id) SELECT 'account_filings', COALESCE(MAX(id), 0) + 1 FROM account_filings;
INSERT INTO id_counters (name, next_id) SELECT 'risk_screenings', COALESCE(MAX(id), 0) + 1 FROM risk_screenings;
