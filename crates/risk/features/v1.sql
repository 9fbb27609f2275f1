-- Xinyong risk features, version 1.
--
-- One row per entity registered before {as_of} and not closed by then, one
-- column per feature. Every input is dated before {as_of}, so a model
-- trained as of a date never sees what happened after it. Registry
-- attributes (type, industry, place, capital, shareholders) are the
-- registry's current values: the lake keeps their changes but not every
-- earlier value.
--
-- Placeholders: {as_of} and the dates 1, 2 and 3 years before it ({y1},
-- {y2}, {y3}); {as_of_month}, {y1_month}, {y2_month} are the same as YYYY-MM.
WITH
entity AS (
  SELECT subject, entity_type, industry, division, established_on,
         CAST(registered_capital AS DOUBLE) AS registered_capital
  FROM registration
  WHERE established_on < DATE '{as_of}'
),
closed AS (
  SELECT DISTINCT subject FROM status_change
  WHERE status IN ('deregistered', 'revoked', 'moved_out') AND effective_on < DATE '{as_of}'
),
capital AS (
  SELECT subject, CAST(SUM(subscribed_capital) AS DOUBLE) AS subscribed, COUNT(*) AS holders
  FROM shareholder GROUP BY subject
),
report AS (
  SELECT subject, employees FROM (
    SELECT subject, CAST(employees AS DOUBLE) AS employees,
           ROW_NUMBER() OVER (PARTITION BY subject ORDER BY report_year DESC) AS latest
    FROM annual_report WHERE filed_on < DATE '{as_of}'
  ) WHERE latest = 1
),
tax AS (
  SELECT subject,
    -- Sums of decimals are exact, so the features do not depend on the
    -- order DataFusion adds rows in.
    CAST(SUM(CASE WHEN period >= '{y1_month}' THEN amount_paid END) AS DOUBLE) AS paid_1y,
    CAST(SUM(CASE WHEN period < '{y1_month}' THEN amount_paid END) AS DOUBLE) AS paid_prior,
    SUM(CASE WHEN period >= '{y1_month}' AND amount_paid < amount_due THEN 1 ELSE 0 END) AS short_1y
  FROM tax_payment
  WHERE period >= '{y2_month}' AND period < '{as_of_month}'
  GROUP BY subject
),
insurance AS (
  SELECT subject,
    SUM(CASE WHEN period >= '{y1_month}' AND amount_paid < amount_due THEN 1 ELSE 0 END) AS short_1y,
    AVG(CASE WHEN period >= '{y1_month}' THEN CAST(insured_headcount AS DOUBLE) END) AS headcount_1y,
    AVG(CASE WHEN period < '{y1_month}' THEN CAST(insured_headcount AS DOUBLE) END) AS headcount_prior
  FROM social_insurance
  WHERE period >= '{y2_month}' AND period < '{as_of_month}'
  GROUP BY subject
),
utility AS (
  SELECT subject, SUM(CASE WHEN overdue_days > 30 THEN 1 ELSE 0 END) AS overdue_1y FROM (
    SELECT subject, overdue_days FROM water_usage
      WHERE period >= '{y1_month}' AND period < '{as_of_month}'
    UNION ALL
    SELECT subject, overdue_days FROM electricity_usage
      WHERE period >= '{y1_month}' AND period < '{as_of_month}'
    UNION ALL
    SELECT subject, overdue_days FROM gas_usage
      WHERE period >= '{y1_month}' AND period < '{as_of_month}'
  ) GROUP BY subject
),
penalty AS (
  SELECT subject, COUNT(*) AS n FROM admin_penalty
  WHERE decided_on >= DATE '{y3}' AND decided_on < DATE '{as_of}' GROUP BY subject
),
inspection AS (
  SELECT subject,
    SUM(CASE WHEN result IN ('problem_found', 'problem_corrected', 'not_found_at_address')
        THEN 1 ELSE 0 END) AS problems
  FROM inspection_result
  WHERE inspected_on >= DATE '{y3}' AND inspected_on < DATE '{as_of}' GROUP BY subject
),
complaint_1y AS (
  SELECT subject, COUNT(*) AS n FROM complaint
  WHERE received_on >= DATE '{y1}' AND received_on < DATE '{as_of}' AND subject IS NOT NULL
  GROUP BY subject
),
abnormal AS (
  SELECT DISTINCT subject FROM abnormal_operation
  WHERE listed_on < DATE '{as_of}' AND (removed_on IS NULL OR removed_on >= DATE '{as_of}')
),
changes AS (
  SELECT subject, COUNT(*) AS n FROM registration_change
  WHERE change_item IN ('address', 'legal_representative')
    AND changed_on >= DATE '{y2}' AND changed_on < DATE '{as_of}'
  GROUP BY subject
),
enforcement AS (
  SELECT subject, COUNT(*) AS n FROM enforcement_case
  WHERE filed_on >= DATE '{y3}' AND filed_on < DATE '{as_of}' GROUP BY subject
),
dishonest AS (
  SELECT DISTINCT subject FROM dishonest_debtor
  WHERE published_on < DATE '{as_of}' AND (removed_on IS NULL OR removed_on >= DATE '{as_of}')
)
SELECT
  e.subject AS subject,
  CAST(CAST(DATE '{as_of}' AS BIGINT) - CAST(e.established_on AS BIGINT) AS DOUBLE) / 365.25
    AS years_in_operation,
  e.registered_capital AS registered_capital,
  cap.subscribed AS subscribed_capital,
  CAST(COALESCE(cap.holders, 0) AS DOUBLE) AS shareholders,
  COALESCE(rep.employees, ins.headcount_1y) AS employees,
  SUBSTR(e.industry, 1, 2) AS industry,
  e.entity_type AS entity_type,
  SUBSTR(e.division, 1, 6) AS district,
  COALESCE(tax.paid_1y, 0) AS tax_paid_1y,
  CASE WHEN tax.paid_prior > 0 THEN tax.paid_1y / tax.paid_prior END AS tax_paid_trend,
  CAST(COALESCE(tax.short_1y, 0) AS DOUBLE) AS tax_short_months_1y,
  CAST(COALESCE(ins.short_1y, 0) AS DOUBLE) AS insurance_short_months_1y,
  CASE WHEN ins.headcount_prior > 0 THEN ins.headcount_1y / ins.headcount_prior END
    AS headcount_trend,
  CAST(COALESCE(ut.overdue_1y, 0) AS DOUBLE) AS utility_overdue_months_1y,
  CAST(COALESCE(pen.n, 0) AS DOUBLE) AS penalties_3y,
  CAST(COALESCE(insp.problems, 0) AS DOUBLE) AS inspection_problems_3y,
  CAST(COALESCE(com.n, 0) AS DOUBLE) AS complaints_1y,
  CASE WHEN ab.subject IS NULL THEN 0.0 ELSE 1.0 END AS abnormal_listed,
  CAST(COALESCE(ch.n, 0) AS DOUBLE) AS address_or_representative_changes_2y,
  CAST(COALESCE(enf.n, 0) AS DOUBLE) AS enforcement_cases_3y,
  CASE WHEN dis.subject IS NULL THEN 0.0 ELSE 1.0 END AS dishonest_debtor
FROM entity e
LEFT JOIN closed cl ON cl.subject = e.subject
LEFT JOIN capital cap ON cap.subject = e.subject
LEFT JOIN report rep ON rep.subject = e.subject
LEFT JOIN tax ON tax.subject = e.subject
LEFT JOIN insurance ins ON ins.subject = e.subject
LEFT JOIN utility ut ON ut.subject = e.subject
LEFT JOIN penalty pen ON pen.subject = e.subject
LEFT JOIN inspection insp ON insp.subject = e.subject
LEFT JOIN complaint_1y com ON com.subject = e.subject
LEFT JOIN abnormal ab ON ab.subject = e.subject
LEFT JOIN changes ch ON ch.subject = e.subject
LEFT JOIN enforcement enf ON enf.subject = e.subject
LEFT JOIN dishonest dis ON dis.subject = e.subject
WHERE cl.subject IS NULL
ORDER BY e.subject
