-- The composite public credit evaluation (公共信用综合评价): every run of
-- the whole city is kept. A run stores the schemes it used, whole, and
-- every entity's facts, so any grade can be recomputed from the row and
-- the run (credit::evaluate) and any two runs compared. Same text for both
-- dialects: ids are assigned by the store from id_counters.
CREATE TABLE evaluation_runs (
    id BIGINT PRIMARY KEY,
    as_of TEXT NOT NULL,
    started_at TEXT NOT NULL,
    finished_at TEXT NOT NULL,
    -- JSON list of the schemes (credit::Scheme) used.
    schemes TEXT NOT NULL,
    -- The facts SQL's version.
    facts_version TEXT NOT NULL,
    entities BIGINT NOT NULL,
    -- Records left out because they were repaired or superseded.
    withdrawn BIGINT NOT NULL
);

CREATE TABLE entity_evaluations (
    run_id BIGINT NOT NULL REFERENCES evaluation_runs (id),
    uscc TEXT NOT NULL,
    scheme TEXT NOT NULL,
    score DOUBLE PRECISION NOT NULL,
    grade TEXT NOT NULL,
    -- The grade the score alone reached (a rule capped it when they differ).
    score_grade TEXT NOT NULL,
    -- JSON list of the facts, in the order of credit::FACTS.
    facts TEXT NOT NULL,
    PRIMARY KEY (uscc, run_id)
);
CREATE INDEX entity_evaluations_by_run ON entity_evaluations (run_id, grade);

INSERT INTO id_counters (name, next_id) VALUES ('evaluation_runs', 1);

-- Credit checks (信用核查) made by departments for an application
-- scenario: one row per check, of one entity or a file of thousands, with
-- what it found (the results themselves go back to the asker; the audit
-- log holds each check).
CREATE TABLE credit_checks (
    id BIGINT PRIMARY KEY,
    checked_at TEXT NOT NULL,
    actor TEXT NOT NULL,
    -- The department the asker acts for ('' for the credit centre and
    -- regulators).
    department TEXT NOT NULL,
    scenario TEXT NOT NULL,
    -- 'one' or 'file'.
    mode TEXT NOT NULL,
    evaluation_run BIGINT,
    entities BIGINT NOT NULL,
    not_found BIGINT NOT NULL,
    barred BIGINT NOT NULL,
    scrutiny BIGINT NOT NULL,
    incentive BIGINT NOT NULL,
    clear BIGINT NOT NULL
);
CREATE INDEX credit_checks_by_scenario ON credit_checks (scenario, department);

INSERT INTO id_counters (name, next_id) VALUES ('credit_checks', 1);
