-- Xinyong evaluation facts, version 1: one row per entity registered before
-- {as_of}, one column per fact of credit::FACTS in that order, then the
-- entity's industry and whether it was closed by the date.
--
-- Every input is dated before {as_of}. Tables are read as `live_<item>`:
-- the item's records without those withdrawn (a repair approved, or a
-- correction that superseded the record), which the caller lists in the
-- `withdrawn` table; the evaluation run builds those views.
--
-- Placeholders: {as_of}, the dates 1 and 3 years before it ({y1}, {y3}),
-- and {as_of_month} and {y1_month} as YYYY-MM.
WITH
entity AS (
  SELECT subject, industry, established_on, CAST(registered_capital AS DOUBLE) AS registered_capital
  FROM live_registration WHERE established_on < DATE '{as_of}'
),
status AS (
  SELECT subject, status FROM (
    SELECT subject, status,
      ROW_NUMBER() OVER (PARTITION BY subject ORDER BY effective_on DESC, status) AS latest
    FROM live_status_change WHERE effective_on < DATE '{as_of}'
  ) WHERE latest = 1
),
-- Annual reports due (30 June of the next year) in the three years before
-- {as_of} and filed late.
late_report AS (
  SELECT subject, COUNT(*) AS n FROM live_annual_report
  WHERE filed_on < DATE '{as_of}'
    AND make_date(CAST(report_year AS INT) + 1, 6, 30) >= DATE '{y3}'
    AND make_date(CAST(report_year AS INT) + 1, 6, 30) < DATE '{as_of}'
    AND (late OR filed_on > make_date(CAST(report_year AS INT) + 1, 6, 30))
  GROUP BY subject
),
-- Penalties that count: decided under the general procedure, more than a
-- warning, general or serious.
penalty AS (
  SELECT subject,
    COUNT(*) AS n,
    SUM(CASE WHEN severity = 'serious' THEN 1 ELSE 0 END) AS serious,
    CAST(SUM(COALESCE(fine_amount, 0) + COALESCE(confiscated_amount, 0)) AS DOUBLE) AS fines
  FROM live_admin_penalty
  WHERE decided_on >= DATE '{y3}' AND decided_on < DATE '{as_of}'
    AND severity IN ('general', 'serious') AND NOT simple_procedure
    AND penalty_category <> 'warning'
  GROUP BY subject
),
abnormal AS (
  SELECT DISTINCT subject FROM live_abnormal_operation
  WHERE listed_on < DATE '{as_of}' AND (removed_on IS NULL OR removed_on >= DATE '{as_of}')
),
serious AS (
  SELECT DISTINCT subject FROM live_serious_violation
  WHERE listed_on < DATE '{as_of}' AND (removed_on IS NULL OR removed_on >= DATE '{as_of}')
),
safety AS (
  SELECT DISTINCT subject FROM live_safety_blacklist
  WHERE listed_on < DATE '{as_of}' AND (removed_on IS NULL OR removed_on >= DATE '{as_of}')
),
inspection AS (
  SELECT subject, COUNT(*) AS n FROM live_inspection_result
  WHERE inspected_on >= DATE '{y3}' AND inspected_on < DATE '{as_of}'
    AND result IN ('problem_found', 'problem_corrected', 'not_found_at_address')
  GROUP BY subject
),
quality AS (
  SELECT subject, COUNT(*) AS n FROM live_product_quality_check
  WHERE sampled_on >= DATE '{y3}' AND sampled_on < DATE '{as_of}' AND NOT qualified
  GROUP BY subject
),
tax AS (
  SELECT subject, COUNT(DISTINCT period) AS short FROM live_tax_payment
  WHERE period >= '{y1_month}' AND period < '{as_of_month}' AND amount_paid < amount_due
  GROUP BY subject
),
tax_arrears AS (
  SELECT subject, COUNT(*) AS n FROM live_tax_arrears
  WHERE arrears_since < DATE '{as_of}' AND (cleared_on IS NULL OR cleared_on >= DATE '{as_of}')
  GROUP BY subject
),
insurance_arrears AS (
  SELECT subject, COUNT(*) AS n FROM live_social_insurance_arrears
  WHERE arrears_since < DATE '{as_of}' AND (cleared_on IS NULL OR cleared_on >= DATE '{as_of}')
  GROUP BY subject
),
wages AS (
  SELECT DISTINCT subject FROM live_wage_arrears
  WHERE listed_on < DATE '{as_of}' AND (removed_on IS NULL OR removed_on >= DATE '{as_of}')
),
utility AS (
  SELECT subject, COUNT(DISTINCT period) AS n FROM (
    SELECT subject, period FROM live_water_usage
      WHERE period >= '{y1_month}' AND period < '{as_of_month}' AND overdue_days > 30
    UNION ALL
    SELECT subject, period FROM live_electricity_usage
      WHERE period >= '{y1_month}' AND period < '{as_of_month}' AND overdue_days > 30
    UNION ALL
    SELECT subject, period FROM live_gas_usage
      WHERE period >= '{y1_month}' AND period < '{as_of_month}' AND overdue_days > 30
  ) GROUP BY subject
),
housing AS (
  SELECT DISTINCT subject FROM live_housing_fund
  WHERE period >= '{y1_month}' AND period < '{as_of_month}' AND amount_paid > 0
),
-- The tax bureau rates a year in the following April: a rating of year Y
-- counts from 1 April of Y + 1.
rating AS (
  SELECT subject, rating FROM (
    SELECT subject, rating,
      ROW_NUMBER() OVER (PARTITION BY subject ORDER BY rating_year DESC, rating) AS latest
    FROM live_tax_credit_rating
    WHERE make_date(CAST(rating_year AS INT) + 1, 4, 1) < DATE '{as_of}'
  ) WHERE latest = 1
),
dishonest AS (
  SELECT DISTINCT subject FROM live_dishonest_debtor
  WHERE published_on < DATE '{as_of}' AND (removed_on IS NULL OR removed_on >= DATE '{as_of}')
),
enforcement AS (
  SELECT subject, COUNT(*) AS n FROM live_enforcement_case
  WHERE filed_on < DATE '{as_of}' AND (closed_on IS NULL OR closed_on >= DATE '{as_of}')
  GROUP BY subject
),
judgment AS (
  SELECT subject, COUNT(*) AS n FROM live_court_judgment
  WHERE judged_on >= DATE '{y3}' AND judged_on < DATE '{as_of}'
    AND role IN ('defendant', 'respondent') AND outcome = 'lost'
  GROUP BY subject
),
honour AS (
  SELECT subject, COUNT(*) AS n FROM live_honour
  WHERE awarded_on >= DATE '{y3}' AND awarded_on < DATE '{as_of}' GROUP BY subject
),
high_tech AS (
  SELECT DISTINCT subject FROM live_high_tech_enterprise
  WHERE certified_on < DATE '{as_of}' AND (valid_to IS NULL OR valid_to >= DATE '{as_of}')
),
patent AS (
  SELECT subject, COUNT(*) AS n FROM live_patent
  WHERE granted_on < DATE '{as_of}' AND status = 'granted' GROUP BY subject
),
-- The ecology bureau publishes a year's rating by 30 June of the next.
environment AS (
  SELECT subject, rating FROM (
    SELECT subject, rating,
      ROW_NUMBER() OVER (PARTITION BY subject ORDER BY rating_year DESC, rating) AS latest
    FROM live_environmental_rating
    WHERE make_date(CAST(rating_year AS INT) + 1, 7, 1) <= DATE '{as_of}'
  ) WHERE latest = 1
),
customs AS (
  SELECT subject, rating FROM (
    SELECT subject, rating,
      ROW_NUMBER() OVER (PARTITION BY subject ORDER BY rated_on DESC, rating) AS latest
    FROM live_customs_credit WHERE rated_on < DATE '{as_of}'
  ) WHERE latest = 1
),
commitment AS (
  SELECT subject,
    SUM(CASE WHEN kept = 'kept' THEN 1 ELSE 0 END) AS kept,
    SUM(CASE WHEN kept = 'broken' THEN 1 ELSE 0 END) AS broken
  FROM live_credit_commitment
  WHERE committed_on >= DATE '{y3}' AND committed_on < DATE '{as_of}'
  GROUP BY subject
)
SELECT
  e.subject AS subject,
  CAST(CAST(DATE '{as_of}' AS BIGINT) - CAST(e.established_on AS BIGINT) AS DOUBLE) / 365.25
    AS years_in_operation,
  e.registered_capital AS registered_capital,
  CAST(COALESCE(lr.n, 0) AS DOUBLE) AS annual_reports_late_3y,
  CAST(COALESCE(pen.n, 0) AS DOUBLE) AS penalties_3y,
  CAST(COALESCE(pen.serious, 0) AS DOUBLE) AS serious_penalties_3y,
  COALESCE(pen.fines, 0.0) AS fines_3y,
  CASE WHEN ab.subject IS NULL THEN 0.0 ELSE 1.0 END AS abnormal_listed,
  CASE WHEN se.subject IS NULL THEN 0.0 ELSE 1.0 END AS serious_listed,
  CASE WHEN sa.subject IS NULL THEN 0.0 ELSE 1.0 END AS safety_blacklisted,
  CAST(COALESCE(insp.n, 0) AS DOUBLE) AS inspection_problems_3y,
  CAST(COALESCE(qu.n, 0) AS DOUBLE) AS quality_failures_3y,
  CAST(COALESCE(tax.short, 0) AS DOUBLE) AS tax_short_months_1y,
  CAST(COALESCE(ta.n, 0) AS DOUBLE) AS tax_arrears_open,
  CAST(COALESCE(ia.n, 0) AS DOUBLE) AS insurance_arrears_open,
  CASE WHEN wa.subject IS NULL THEN 0.0 ELSE 1.0 END AS wage_arrears_listed,
  CAST(COALESCE(ut.n, 0) AS DOUBLE) AS utility_overdue_months_1y,
  CASE WHEN ho.subject IS NULL THEN 0.0 ELSE 1.0 END AS housing_fund,
  rat.rating AS tax_credit_rating,
  CASE WHEN di.subject IS NULL THEN 0.0 ELSE 1.0 END AS dishonest_debtor,
  CAST(COALESCE(enf.n, 0) AS DOUBLE) AS enforcement_open,
  CAST(COALESCE(ju.n, 0) AS DOUBLE) AS judgments_lost_3y,
  CAST(COALESCE(hon.n, 0) AS DOUBLE) AS honours_3y,
  CASE WHEN ht.subject IS NULL THEN 0.0 ELSE 1.0 END AS high_tech,
  CAST(COALESCE(pat.n, 0) AS DOUBLE) AS patents_granted,
  env.rating AS environmental_rating,
  cus.rating AS customs_credit,
  CAST(COALESCE(com.kept, 0) AS DOUBLE) AS commitments_kept_3y,
  CAST(COALESCE(com.broken, 0) AS DOUBLE) AS commitments_broken_3y,
  e.industry AS industry,
  CASE WHEN st.status IN ('deregistered', 'revoked', 'moved_out') THEN 1 ELSE 0 END AS closed
FROM entity e
LEFT JOIN status st ON st.subject = e.subject
LEFT JOIN late_report lr ON lr.subject = e.subject
LEFT JOIN penalty pen ON pen.subject = e.subject
LEFT JOIN abnormal ab ON ab.subject = e.subject
LEFT JOIN serious se ON se.subject = e.subject
LEFT JOIN safety sa ON sa.subject = e.subject
LEFT JOIN inspection insp ON insp.subject = e.subject
LEFT JOIN quality qu ON qu.subject = e.subject
LEFT JOIN tax ON tax.subject = e.subject
LEFT JOIN tax_arrears ta ON ta.subject = e.subject
LEFT JOIN insurance_arrears ia ON ia.subject = e.subject
LEFT JOIN wages wa ON wa.subject = e.subject
LEFT JOIN utility ut ON ut.subject = e.subject
LEFT JOIN housing ho ON ho.subject = e.subject
LEFT JOIN rating rat ON rat.subject = e.subject
LEFT JOIN dishonest di ON di.subject = e.subject
LEFT JOIN enforcement enf ON enf.subject = e.subject
LEFT JOIN judgment ju ON ju.subject = e.subject
LEFT JOIN honour hon ON hon.subject = e.subject
LEFT JOIN high_tech ht ON ht.subject = e.subject
LEFT JOIN patent pat ON pat.subject = e.subject
LEFT JOIN environment env ON env.subject = e.subject
LEFT JOIN customs cus ON cus.subject = e.subject
LEFT JOIN commitment com ON com.subject = e.subject
ORDER BY e.subject
