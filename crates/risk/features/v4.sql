-- Xinyong risk features, version 4: version 3's columns, unchanged, and
-- three from citizens' complaints (issue 21): complaints in the last 90
-- days, the most about the entity within any 14 days of the last year (the
-- repeat-complaint detector's count), and the last 90 days' excess over
-- the entity's own rate in the 21 months before them (its spike). Version
-- 3 added the entity's record over three years where version 2 read only
-- its latest state, its latest environmental credit rating and its taxable
-- revenue per month. A model fitted on version 1, 2 or 3 scores on this
-- table.
--
-- One row per entity registered before {as_of}, one column per feature,
-- and the facts the national classing rules read (`closed`,
-- `serious_listed`, `serious_penalties_1y`). Every input is dated before
-- {as_of}, so a model trained as of a date never sees what happened after
-- it. Registry attributes (capital, industry, type, division) are taken as
-- they stood at {as_of}: the value after the last change before it, else
-- the value before the first change after it, else the registration's
-- value (which holds when nothing changed). A later change therefore never
-- alters the features at an earlier date. The registration status is the
-- latest status change before {as_of}: deregistered, revoked and moved-out
-- entities are `closed`, a reinstated one is not.
--
-- Placeholders: {as_of} and the dates 1, 2 and 3 years before it ({y1},
-- {y2}, {y3}) and 90 days before it ({d90}); {as_of_month}, {y1_month},
-- {y2_month} are the same as YYYY-MM.
WITH
-- Each registry attribute's value at {as_of} from the change records: the
-- nearest change, those before the date first (latest first), then those
-- after it (earliest first).
attribute_change AS (
  SELECT subject, change_item, value FROM (
    SELECT subject, change_item, value,
      ROW_NUMBER() OVER (
        PARTITION BY subject, change_item
        ORDER BY after_date, CASE WHEN after_date = 0 THEN -days ELSE days END
      ) AS nearest
    FROM (
      SELECT subject, change_item,
        CASE WHEN changed_on < DATE '{as_of}' THEN 0 ELSE 1 END AS after_date,
        CAST(changed_on AS BIGINT) AS days,
        NULLIF(TRIM(CASE WHEN changed_on < DATE '{as_of}' THEN "after" ELSE "before" END), '')
          AS value
      FROM registration_change
      WHERE change_item IN ('registered_capital', 'industry', 'entity_type', 'division')
    )
  ) WHERE nearest = 1
),
attribute AS (
  SELECT subject,
    MAX(CASE WHEN change_item = 'registered_capital' THEN value END) AS registered_capital,
    MAX(CASE WHEN change_item = 'industry' THEN value END) AS industry,
    MAX(CASE WHEN change_item = 'entity_type' THEN value END) AS entity_type,
    MAX(CASE WHEN change_item = 'division' THEN value END) AS division
  FROM attribute_change GROUP BY subject
),
entity AS (
  SELECT r.subject AS subject,
    COALESCE(a.entity_type, r.entity_type) AS entity_type,
    COALESCE(a.industry, r.industry) AS industry,
    COALESCE(a.division, r.division) AS division,
    r.established_on AS established_on,
    COALESCE(TRY_CAST(a.registered_capital AS DOUBLE), CAST(r.registered_capital AS DOUBLE))
      AS registered_capital
  FROM registration r
  LEFT JOIN attribute a ON a.subject = r.subject
  WHERE r.established_on < DATE '{as_of}'
),
status AS (
  SELECT subject, status FROM (
    SELECT subject, status,
      ROW_NUMBER() OVER (PARTITION BY subject ORDER BY effective_on DESC, status) AS latest
    FROM status_change WHERE effective_on < DATE '{as_of}'
  ) WHERE latest = 1
),
capital AS (
  SELECT subject, CAST(SUM(subscribed_capital) AS DOUBLE) AS subscribed, COUNT(*) AS holders
  FROM shareholder
  WHERE subscribed_on IS NULL OR subscribed_on < DATE '{as_of}'
  GROUP BY subject
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
    SUM(CASE WHEN period >= '{y1_month}' AND amount_paid < amount_due THEN 1 ELSE 0 END) AS short_1y,
    CAST(AVG(CASE WHEN tax_type = 'vat' THEN taxable_revenue END) AS DOUBLE) AS revenue_per_filing
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
-- Complaints of the last 90 days, and the entity's usual count for 90 days
-- from the 21 months before them (two years before {as_of} up to {d90}).
complaint_recent AS (
  SELECT subject,
    SUM(CASE WHEN received_on >= DATE '{d90}' THEN 1 ELSE 0 END) AS n90,
    SUM(CASE WHEN received_on < DATE '{d90}' THEN 1 ELSE 0 END) * 90.0
      / (CAST(DATE '{d90}' AS BIGINT) - CAST(DATE '{y2}' AS BIGINT)) AS usual90
  FROM complaint
  WHERE received_on >= DATE '{y2}' AND received_on < DATE '{as_of}' AND subject IS NOT NULL
  GROUP BY subject
),
-- The most complaints about the entity within any 14 days of the last
-- year: for each day it had one, those of that day and the 13 before.
complaint_repeat AS (
  SELECT subject, MAX(n) AS n FROM (
    SELECT a.subject, a.received_on, COUNT(*) AS n
    FROM (SELECT DISTINCT subject, received_on FROM complaint
          WHERE received_on >= DATE '{y1}' AND received_on < DATE '{as_of}'
            AND subject IS NOT NULL) a
    JOIN complaint b ON b.subject = a.subject
      AND b.received_on <= a.received_on
      AND CAST(b.received_on AS BIGINT) > CAST(a.received_on AS BIGINT) - 14
      AND b.received_on >= DATE '{y1}'
    GROUP BY a.subject, a.received_on
  ) GROUP BY subject
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
),
serious AS (
  SELECT DISTINCT subject FROM serious_violation
  WHERE listed_on < DATE '{as_of}' AND (removed_on IS NULL OR removed_on >= DATE '{as_of}')
),
-- The latest tax credit rating published before {as_of}: the tax bureau
-- rates a year in the following April, so a rating of year Y counts from
-- 1 April of Y + 1.
rating AS (
  SELECT subject, rating FROM (
    SELECT subject, rating,
      ROW_NUMBER() OVER (PARTITION BY subject ORDER BY rating_year DESC, rating) AS latest
    FROM tax_credit_rating
    WHERE make_date(CAST(rating_year AS INT) + 1, 4, 1) < DATE '{as_of}'
  ) WHERE latest = 1
),
housing AS (
  SELECT DISTINCT subject FROM housing_fund
  WHERE period >= '{y1_month}' AND period < '{as_of_month}' AND amount_paid > 0
),
serious_penalty AS (
  SELECT subject, COUNT(*) AS n FROM admin_penalty
  WHERE severity = 'serious' AND decided_on >= DATE '{y1}' AND decided_on < DATE '{as_of}'
  GROUP BY subject
),
-- Annual reports due (30 June of the year after the report year) in the
-- three years before {as_of} and filed after the due date.
late_report AS (
  SELECT subject, COUNT(*) AS n FROM annual_report
  WHERE filed_on < DATE '{as_of}'
    AND make_date(CAST(report_year AS INT) + 1, 6, 30) >= DATE '{y3}'
    AND make_date(CAST(report_year AS INT) + 1, 6, 30) < DATE '{as_of}'
    AND (late OR filed_on > make_date(CAST(report_year AS INT) + 1, 6, 30))
  GROUP BY subject
),
listing AS (
  SELECT subject, COUNT(*) AS n FROM abnormal_operation
  WHERE listed_on >= DATE '{y3}' AND listed_on < DATE '{as_of}' GROUP BY subject
),
-- The tax credit ratings published (1 April of the next year) in the three
-- years before {as_of}, as points; M (a new taxpayer, not yet rated on its
-- record) says nothing about the record and is left out.
rating_3y AS (
  SELECT subject, AVG(points) AS mean FROM (
    SELECT subject,
      CASE rating WHEN 'A' THEN 4.0 WHEN 'B' THEN 3.0 WHEN 'C' THEN 2.0 WHEN 'D' THEN 1.0 END
        AS points
    FROM tax_credit_rating
    WHERE make_date(CAST(rating_year AS INT) + 1, 4, 1) >= DATE '{y3}'
      AND make_date(CAST(rating_year AS INT) + 1, 4, 1) < DATE '{as_of}'
      AND rating IN ('A', 'B', 'C', 'D')
  ) GROUP BY subject
),
-- The latest environmental credit rating published before {as_of}; the
-- ecology bureau publishes a year's rating by 30 June of the next.
environment AS (
  SELECT subject, rating FROM (
    SELECT subject, rating,
      ROW_NUMBER() OVER (PARTITION BY subject ORDER BY rating_year DESC, rating) AS latest
    FROM environmental_rating
    WHERE make_date(CAST(rating_year AS INT) + 1, 7, 1) <= DATE '{as_of}'
  ) WHERE latest = 1
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
  CAST(COALESCE(cr.n90, 0) AS DOUBLE) AS complaints_90d,
  CAST(COALESCE(rp.n, 0) AS DOUBLE) AS repeat_complaints_14d_1y,
  COALESCE(cr.n90 - cr.usual90, 0.0) AS complaint_spike_90d,
  CASE WHEN ab.subject IS NULL THEN 0.0 ELSE 1.0 END AS abnormal_listed,
  CAST(COALESCE(ch.n, 0) AS DOUBLE) AS address_or_representative_changes_2y,
  CAST(COALESCE(enf.n, 0) AS DOUBLE) AS enforcement_cases_3y,
  CASE WHEN dis.subject IS NULL THEN 0.0 ELSE 1.0 END AS dishonest_debtor,
  rat.rating AS tax_credit_rating,
  CASE WHEN rep.employees > 0 THEN ins.headcount_1y / rep.employees END AS insurance_coverage,
  CASE WHEN rep.employees > 0 THEN COALESCE(tax.paid_1y, 0) / rep.employees END
    AS tax_paid_per_employee,
  CASE WHEN hou.subject IS NULL THEN 0.0 ELSE 1.0 END AS housing_fund,
  CAST(COALESCE(lr.n, 0) AS DOUBLE) AS annual_reports_late_3y,
  CAST(COALESCE(li.n, 0) AS DOUBLE) AS abnormal_listings_3y,
  r3.mean AS tax_credit_points_3y,
  env.rating AS environmental_rating,
  -- Individual businesses are small-scale taxpayers and file VAT for a
  -- quarter at a time; everyone else files monthly.
  tax.revenue_per_filing
    / CASE WHEN e.entity_type = 'individual_business' THEN 3.0 ELSE 1.0 END
    AS revenue_per_month_2y,
  CASE WHEN st.status IN ('deregistered', 'revoked', 'moved_out') THEN 1.0 ELSE 0.0 END
    AS closed,
  CASE WHEN se.subject IS NULL THEN 0.0 ELSE 1.0 END AS serious_listed,
  CAST(COALESCE(sp.n, 0) AS DOUBLE) AS serious_penalties_1y
FROM entity e
LEFT JOIN status st ON st.subject = e.subject
LEFT JOIN capital cap ON cap.subject = e.subject
LEFT JOIN report rep ON rep.subject = e.subject
LEFT JOIN tax ON tax.subject = e.subject
LEFT JOIN insurance ins ON ins.subject = e.subject
LEFT JOIN utility ut ON ut.subject = e.subject
LEFT JOIN penalty pen ON pen.subject = e.subject
LEFT JOIN inspection insp ON insp.subject = e.subject
LEFT JOIN complaint_1y com ON com.subject = e.subject
LEFT JOIN complaint_recent cr ON cr.subject = e.subject
LEFT JOIN complaint_repeat rp ON rp.subject = e.subject
LEFT JOIN abnormal ab ON ab.subject = e.subject
LEFT JOIN changes ch ON ch.subject = e.subject
LEFT JOIN enforcement enf ON enf.subject = e.subject
LEFT JOIN dishonest dis ON dis.subject = e.subject
LEFT JOIN serious se ON se.subject = e.subject
LEFT JOIN serious_penalty sp ON sp.subject = e.subject
LEFT JOIN rating rat ON rat.subject = e.subject
LEFT JOIN housing hou ON hou.subject = e.subject
LEFT JOIN late_report lr ON lr.subject = e.subject
LEFT JOIN listing li ON li.subject = e.subject
LEFT JOIN rating_3y r3 ON r3.subject = e.subject
LEFT JOIN environment env ON env.subject = e.subject
ORDER BY e.subject
