-- The city's risk model: fitted models, screenings of the whole city, and
-- every entity's score in every screening (the history is kept).
-- Same text for both dialects: ids are assigned explicitly by the store.

CREATE TABLE risk_models (
    version TEXT PRIMARY KEY,
    created_at TEXT NOT NULL,
    -- Features are known up to this date; the hold-out starts here.
    as_of TEXT NOT NULL,
    features_version TEXT NOT NULL,
    -- The scoring engine's model document.
    model_json TEXT NOT NULL,
    -- Training and hold-out report: metrics, binning tables, PSI, sample.
    report_json TEXT NOT NULL
);

CREATE TABLE risk_screenings (
    id BIGINT PRIMARY KEY,
    screened_at TEXT NOT NULL,
    as_of TEXT NOT NULL,
    model_version TEXT NOT NULL REFERENCES risk_models (version),
    entities BIGINT NOT NULL,
    -- Class cut-offs used, class counts, PSI, timings.
    summary_json TEXT NOT NULL
);

CREATE TABLE risk_scores (
    screening_id BIGINT NOT NULL REFERENCES risk_screenings (id),
    uscc TEXT NOT NULL,
    score BIGINT NOT NULL,
    probability DOUBLE PRECISION NOT NULL,
    class TEXT NOT NULL,
    -- JSON list of reasons, costliest first: feature, bin, points lost.
    reasons TEXT NOT NULL,
    PRIMARY KEY (screening_id, uscc)
);

CREATE INDEX risk_scores_by_entity ON risk_scores (uscc, screening_id);
CREATE INDEX risk_scores_by_class ON risk_scores (screening_id, class, score);
