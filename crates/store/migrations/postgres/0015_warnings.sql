-- Early warning from complaints (complaints::detect, complaints::warning).
--
-- complaint_signals: what the detectors found, one row per detector,
-- category, place and first alarm day; a later run over the same days
-- updates the row (its last day, counts and evidence) instead of adding
-- one. `evidence` is the JSON a warning is drafted from (daily counts, the
-- complaints' tickets, masked examples).
--
-- warnings: administrative notices, consumer alerts and risk reports, each
-- drafted from a signal (or from the warning it corrects, `supersedes`).
-- `version` counts edits: an edit or a move names the version it was made
-- on, so two regulators editing at once conflict instead of overwriting.
-- `last_editor` is who edited it last (four eyes: not its approver).
-- Moves are numbered per warning from `last_event_seq`, which the moving
-- transaction updates first. Same text for both dialects.
CREATE TABLE complaint_signals (
    id BIGINT PRIMARY KEY,
    detector TEXT NOT NULL,
    category TEXT NOT NULL,
    place_level TEXT NOT NULL,
    place TEXT NOT NULL,
    first_day TEXT NOT NULL,
    last_day TEXT NOT NULL,
    observed BIGINT NOT NULL,
    expected DOUBLE PRECISION NOT NULL,
    statistic DOUBLE PRECISION NOT NULL,
    p_value DOUBLE PRECISION,
    evidence TEXT NOT NULL,
    detected_at TEXT NOT NULL,
    UNIQUE (detector, category, place_level, place, first_day)
);
CREATE INDEX complaint_signals_by_day ON complaint_signals (first_day);

CREATE TABLE warnings (
    id BIGINT PRIMARY KEY,
    kind TEXT NOT NULL,
    state TEXT NOT NULL,
    signal_id BIGINT REFERENCES complaint_signals (id),
    supersedes BIGINT REFERENCES warnings (id),
    recipient_kind TEXT NOT NULL,
    recipient TEXT NOT NULL,
    title TEXT NOT NULL,
    body TEXT NOT NULL,
    evidence TEXT NOT NULL,
    version BIGINT NOT NULL,
    created_at TEXT NOT NULL,
    created_by TEXT NOT NULL,
    last_editor TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    sent_at TEXT,
    last_event_seq BIGINT NOT NULL
);
CREATE INDEX warnings_by_state ON warnings (state, kind);
CREATE INDEX warnings_by_recipient ON warnings (recipient_kind, recipient);
CREATE INDEX warnings_by_signal ON warnings (signal_id);

CREATE TABLE warning_events (
    warning_id BIGINT NOT NULL REFERENCES warnings (id),
    seq BIGINT NOT NULL,
    at TEXT NOT NULL,
    actor TEXT NOT NULL,
    state TEXT NOT NULL,
    version BIGINT NOT NULL,
    reason TEXT NOT NULL,
    PRIMARY KEY (warning_id, seq)
);

INSERT INTO id_counters (name, next_id) VALUES ('complaint_signals', 1);
INSERT INTO id_counters (name, next_id) VALUES ('warnings', 1);
