-- Objections (异议) and credit repairs (信用修复): an enterprise's case about
-- one of its records, named by the record's lineage (item, batch_id,
-- source_row: the same triple as events and the lake's _batch, _row).
-- `kind` is 'objection' or 'repair'; states and moves are credit::objection
-- and credit::repair. `version` counts moves: a move names the state and
-- version it was decided on, so two officers deciding at once conflict
-- instead of both acting. At most one case of a kind is open per record
-- (the partial unique index). Deadlines are Beijing days: `due_on` is the
-- day the current step must be done by (NULL once closed). Same text for
-- both dialects: ids come from id_counters.
CREATE TABLE credit_cases (
    id BIGINT PRIMARY KEY,
    kind TEXT NOT NULL,
    uscc TEXT NOT NULL,
    item TEXT NOT NULL,
    department TEXT NOT NULL,
    batch_id BIGINT NOT NULL,
    source_row BIGINT NOT NULL,
    record_title TEXT NOT NULL,
    record_date TEXT NOT NULL,
    -- An objection's ground (credit::objection::Ground); '' for a repair.
    ground TEXT NOT NULL,
    -- The enterprise's reasons (objection) or proof of correction (repair).
    statement TEXT NOT NULL,
    -- A repair's public credit commitment; '' for an objection.
    commitment TEXT NOT NULL,
    state TEXT NOT NULL,
    open INTEGER NOT NULL,
    version BIGINT NOT NULL,
    submitted_at TEXT NOT NULL,
    submitted_by TEXT NOT NULL,
    due_on TEXT,
    decided_at TEXT,
    updated_at TEXT NOT NULL,
    -- The batch that carries the corrected version (a corrected objection).
    correction_batch BIGINT,
    last_event_seq BIGINT NOT NULL
);
CREATE UNIQUE INDEX credit_cases_one_open
    ON credit_cases (kind, item, batch_id, source_row) WHERE open = 1;
CREATE INDEX credit_cases_by_entity ON credit_cases (uscc, kind);
CREATE INDEX credit_cases_by_state ON credit_cases (kind, state, department);

CREATE TABLE credit_case_events (
    case_id BIGINT NOT NULL REFERENCES credit_cases (id),
    seq BIGINT NOT NULL,
    at TEXT NOT NULL,
    actor TEXT NOT NULL,
    state TEXT NOT NULL,
    reasons TEXT NOT NULL,
    PRIMARY KEY (case_id, seq)
);

-- Documents sent with a case: the bytes are kept under the data directory
-- by their SHA-256 (documents/<sha256>), named here.
CREATE TABLE credit_case_documents (
    case_id BIGINT NOT NULL REFERENCES credit_cases (id),
    seq BIGINT NOT NULL,
    file_name TEXT NOT NULL,
    content_type TEXT NOT NULL,
    bytes BIGINT NOT NULL,
    sha256 TEXT NOT NULL,
    PRIMARY KEY (case_id, seq)
);

-- Records no longer published or shared: repaired (a repair approved) or
-- superseded by a corrected version. The lake keeps them; every surface
-- and the evaluation leave them out by this list.
CREATE TABLE record_withdrawals (
    item TEXT NOT NULL,
    batch_id BIGINT NOT NULL,
    source_row BIGINT NOT NULL,
    uscc TEXT NOT NULL,
    reason TEXT NOT NULL,
    case_id BIGINT NOT NULL REFERENCES credit_cases (id),
    at TEXT NOT NULL,
    PRIMARY KEY (item, batch_id, source_row)
);
CREATE INDEX record_withdrawals_by_entity ON record_withdrawals (uscc);

INSERT INTO id_counters (name, next_id) VALUES ('credit_cases', 1);
