-- What became of each disbursed loan, as its bank reports it
-- (finance::outcome): one row per report, numbered per loan from the
-- application's own counter, which the reporting transaction locks, so two
-- reports sent at once are ordered and checked one after the other. The
-- application's loan_status follows the latest report. These reports are
-- the financing scorecard's labels.
CREATE TABLE loan_reports (
    application_id BIGINT NOT NULL REFERENCES loan_applications (id),
    seq BIGINT NOT NULL,
    reported_on TEXT NOT NULL,
    state TEXT NOT NULL,
    days_past_due BIGINT NOT NULL,
    actor TEXT NOT NULL,
    at TEXT NOT NULL,
    source TEXT NOT NULL,
    PRIMARY KEY (application_id, seq)
);
ALTER TABLE loan_applications ADD COLUMN last_report_seq BIGINT NOT NULL DEFAULT 0;
