-- Financing small firms (DOMAIN.md §8): banks, enterprises registered on the
-- platform, authorisations and every use of them, loan products, financing
-- demands, applications and the history of their states. Same text for both
-- dialects: ids are assigned by the store.

CREATE TABLE banks (
    id TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    uscc TEXT NOT NULL
);

-- Who registered an enterprise on the platform, and in what capacity
-- (legal_representative or agent). The account's role is enterprise:USCC.
CREATE TABLE enterprise_registrations (
    uscc TEXT NOT NULL,
    user_id BIGINT NOT NULL REFERENCES users (id),
    applicant_name TEXT NOT NULL,
    capacity TEXT NOT NULL,
    registered_at TEXT NOT NULL,
    PRIMARY KEY (uscc, user_id)
);

-- What an enterprise granted one bank: scope (';' between groups), purpose,
-- expiry; for one application when application_id is set.
CREATE TABLE authorisations (
    id BIGINT PRIMARY KEY,
    enterprise TEXT NOT NULL,
    bank TEXT NOT NULL,
    application_id BIGINT,
    scope TEXT NOT NULL,
    purpose TEXT NOT NULL,
    granted_at TEXT NOT NULL,
    granted_by TEXT NOT NULL,
    expires_at TEXT NOT NULL,
    revoked_at TEXT,
    revoked_by TEXT
);
CREATE INDEX authorisations_enterprise ON authorisations (enterprise, bank);

-- Every bank read of an enterprise's data, allowed or denied, with the
-- reason: the enterprise's "who looked at my data, when, why".
CREATE TABLE data_accesses (
    id BIGINT PRIMARY KEY,
    at TEXT NOT NULL,
    bank TEXT NOT NULL,
    actor TEXT NOT NULL,
    enterprise TEXT NOT NULL,
    application_id BIGINT,
    scope TEXT NOT NULL,
    purpose TEXT NOT NULL,
    outcome TEXT NOT NULL,
    reason TEXT NOT NULL,
    authorisation_id BIGINT,
    report_number TEXT
);
CREATE INDEX data_accesses_enterprise ON data_accesses (enterprise, id);
CREATE INDEX data_accesses_bank ON data_accesses (bank, id);

-- state: pending (awaiting the credit centre) → published ⇄ paused, or
-- rejected. eligibility is finance::matching::Eligibility as JSON.
CREATE TABLE loan_products (
    id BIGINT PRIMARY KEY,
    bank TEXT NOT NULL,
    name TEXT NOT NULL,
    amount_min DOUBLE PRECISION NOT NULL,
    amount_max DOUBLE PRECISION NOT NULL,
    term_months_max BIGINT NOT NULL,
    rate_min DOUBLE PRECISION NOT NULL,
    rate_max DOUBLE PRECISION NOT NULL,
    collateral TEXT NOT NULL,
    guarantee TEXT NOT NULL,
    eligibility TEXT NOT NULL,
    state TEXT NOT NULL,
    created_at TEXT NOT NULL,
    created_by TEXT NOT NULL,
    reviewed_at TEXT,
    reviewed_by TEXT
);
CREATE INDEX loan_products_bank ON loan_products (bank);

-- An enterprise's financing demand. state: open or closed.
CREATE TABLE financing_demands (
    id BIGINT PRIMARY KEY,
    enterprise TEXT NOT NULL,
    posted_at TEXT NOT NULL,
    amount DOUBLE PRECISION NOT NULL,
    term_months BIGINT NOT NULL,
    purpose TEXT NOT NULL,
    urgency TEXT NOT NULL,
    state TEXT NOT NULL,
    reference TEXT NOT NULL
);
CREATE INDEX financing_demands_enterprise ON financing_demands (enterprise);

-- An application to a product; finance::workflow gives the states and who
-- moves them. The loan columns are the bank's report of the outcome.
CREATE TABLE loan_applications (
    id BIGINT PRIMARY KEY,
    enterprise TEXT NOT NULL,
    product_id BIGINT NOT NULL REFERENCES loan_products (id),
    bank TEXT NOT NULL,
    demand_id BIGINT,
    amount DOUBLE PRECISION NOT NULL,
    term_months BIGINT NOT NULL,
    state TEXT NOT NULL,
    reason TEXT NOT NULL,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    loan_amount DOUBLE PRECISION,
    loan_rate DOUBLE PRECISION,
    loan_term_months BIGINT,
    disbursed_on TEXT,
    loan_status TEXT
);
CREATE INDEX loan_applications_enterprise ON loan_applications (enterprise);
CREATE INDEX loan_applications_bank ON loan_applications (bank);

-- Every state an application entered, by whom: time in each state comes
-- from here.
CREATE TABLE application_events (
    application_id BIGINT NOT NULL REFERENCES loan_applications (id),
    seq BIGINT NOT NULL,
    at TEXT NOT NULL,
    actor TEXT NOT NULL,
    state TEXT NOT NULL,
    reason TEXT NOT NULL,
    PRIMARY KEY (application_id, seq)
);

-- The financing scorecard: the platform's credit profile for lenders,
-- learnt from loan outcomes (a model apart from supervision's classes).
CREATE TABLE financing_models (
    version TEXT PRIMARY KEY,
    created_at TEXT NOT NULL,
    as_of TEXT NOT NULL,
    model_json TEXT NOT NULL,
    report_json TEXT NOT NULL
);

-- Each enterprise's latest financing score and grade (A best), with the
-- reasons (feature, bin and points lost, as JSON), and the facts product
-- rules ask about, from the same features: employees and tax paid in the
-- year before as_of (yuan).
CREATE TABLE financing_scores (
    uscc TEXT PRIMARY KEY,
    model_version TEXT NOT NULL,
    as_of TEXT NOT NULL,
    score BIGINT NOT NULL,
    probability DOUBLE PRECISION NOT NULL,
    grade TEXT NOT NULL,
    reasons TEXT NOT NULL,
    employees DOUBLE PRECISION,
    tax_paid_1y DOUBLE PRECISION
);

-- The cultivation pool: the rule in force (finance::pool::PoolRule as
-- JSON, a new version per change) and its members with the checks that
-- admitted them.
CREATE TABLE pool_rules (
    version BIGINT PRIMARY KEY,
    rule TEXT NOT NULL,
    set_at TEXT NOT NULL,
    set_by TEXT NOT NULL
);
CREATE TABLE pool_members (
    uscc TEXT PRIMARY KEY,
    rule_version BIGINT NOT NULL,
    admitted_at TEXT NOT NULL,
    checks TEXT NOT NULL
);

-- Key enterprises (重点企业) a regulator lists, pushed to banks; each bank
-- answers: contacted, credit_granted (with the amount) or declined.
CREATE TABLE key_enterprises (
    uscc TEXT PRIMARY KEY,
    note TEXT NOT NULL,
    added_at TEXT NOT NULL,
    added_by TEXT NOT NULL
);
CREATE TABLE key_pushes (
    uscc TEXT NOT NULL,
    bank TEXT NOT NULL,
    pushed_at TEXT NOT NULL,
    pushed_by TEXT NOT NULL,
    response TEXT NOT NULL,
    amount DOUBLE PRECISION,
    responded_at TEXT,
    responded_by TEXT,
    PRIMARY KEY (uscc, bank)
);

-- Visits to enterprises (走访): who visited, when, the needs found, the
-- follow-up, and whether the enterprise got its first loan.
CREATE TABLE enterprise_visits (
    id BIGINT PRIMARY KEY,
    uscc TEXT NOT NULL,
    visitor TEXT NOT NULL,
    organisation TEXT NOT NULL,
    visited_on TEXT NOT NULL,
    needs TEXT NOT NULL,
    follow_up TEXT NOT NULL,
    first_loan TEXT NOT NULL,
    recorded_at TEXT NOT NULL,
    recorded_by TEXT NOT NULL
);
CREATE INDEX enterprise_visits_uscc ON enterprise_visits (uscc);

-- Settlement-account filing (结算账户备案): a bank files an enterprise's
-- new account on application and records its opening.
CREATE TABLE account_filings (
    id BIGINT PRIMARY KEY,
    uscc TEXT NOT NULL,
    bank TEXT NOT NULL,
    applied_on TEXT NOT NULL,
    opened_on TEXT,
    filed_at TEXT NOT NULL,
    filed_by TEXT NOT NULL
);
CREATE INDEX account_filings_bank ON account_filings (bank);
