#!/usr/bin/env bash
# What the departments' records can say about a violation: LightGBM on the
# same feature tables as the city's risk model, scored against the
# synthetic city's truth for every entity as of 2025-01-01 — trained on the
# inspected entities (as the scorecard is), trained on the truth itself for
# a random half of all entities (the best these features allow), and
# trained on the truth with the hidden management quality added as if a
# record showed it exactly (what no record can give: the reach of any
# model on this city).
#
# Needs a data directory that `bench/risk.sh` ingested (WORK_DIR/data and
# WORK_DIR/city) and the peers' Python (PEERS_VENV, default /tmp/peers,
# with lightgbm, scikit-learn and pandas).
#
# Usage: bench/risk_limit.sh WORK_DIR   (XINYONG_BIN=path skips the build)
set -euo pipefail
cd "$(dirname "$0")/.."

work="$1"
venv="${PEERS_VENV:-/tmp/peers}"
xinyong="${XINYONG_BIN:-}"
if [ -z "$xinyong" ]; then
  cargo build --profile dist --quiet
  xinyong="$PWD/target/dist/xinyong"
fi
data="$work/data"
"$xinyong" --data-dir "$data" risk features --as-of 2023-01-01 --labelled --out "$work/train2023.csv"
"$xinyong" --data-dir "$data" risk features --as-of 2024-01-01 --labelled --out "$work/train2024.csv"
"$xinyong" --data-dir "$data" risk features --as-of 2025-01-01 --out "$work/all2025.csv"
# Candidate columns no feature version has, tried here first: income tax
# withheld and VAT revenue per month over two years, and the insured
# headcount over the last year (each per employee below).
"$xinyong" --data-dir "$data" sql --format csv \
  "SELECT subject,
     AVG(CASE WHEN tax_type = 'individual_income' THEN CAST(amount_due AS DOUBLE) END) AS income_tax_per_month,
     AVG(CASE WHEN tax_type = 'vat' THEN CAST(taxable_revenue AS DOUBLE) END) AS revenue_per_filing
   FROM tax_payment WHERE period >= '2023-01' AND period < '2025-01' GROUP BY subject" \
  > "$work/candidates_tax.csv"
"$xinyong" --data-dir "$data" sql --format csv \
  "SELECT subject, AVG(CAST(insured_headcount AS DOUBLE)) AS insured
   FROM social_insurance WHERE period >= '2024-01' AND period < '2025-01' GROUP BY subject" \
  > "$work/candidates_insured.csv"

"$venv/bin/python" - "$work" <<'PY'
import sys, warnings
import lightgbm as lgb, numpy as np, pandas as pd
from sklearn.metrics import roc_auc_score
warnings.filterwarnings("ignore")
work = sys.argv[1]
truth = pd.read_csv(f"{work}/city/truth/entities.csv", dtype={"subject": str}).set_index("subject")
categories = ["industry", "entity_type", "district", "tax_credit_rating", "environmental_rating"]
facts = ["subject", "closed", "serious_listed", "serious_penalties_1y", "inspection_problem", "weight"]
v2_only = ["tax_credit_rating", "insurance_coverage", "tax_paid_per_employee", "housing_fund"]
v3_only = ["annual_reports_late_3y", "abnormal_listings_3y", "tax_credit_points_3y",
           "environmental_rating", "revenue_per_month_2y"]

def load(name):
    d = pd.read_csv(f"{work}/{name}", dtype={"subject": str, "industry": str, "district": str})
    for c in categories:
        d[c] = d[c].astype(str)
    return d

def typed(frame, like):
    out = frame.copy()
    for c in categories:
        out[c] = pd.Categorical(out[c], categories=like[c].astype("category").cat.categories)
    return out

everyone = load("all2025.csv")
violates = truth.loc[everyone["subject"], "violates"].astype(str).isin(["true", "True", "1"]).astype(int).values
v3 = [c for c in everyone.columns if c not in facts]
v2 = [c for c in v3 if c not in v3_only]
v1 = [c for c in v2 if c not in v2_only]
print(f"ceiling (the truth's own probability): "
      f"{roc_auc_score(violates, truth.loc[everyone['subject'], 'violation_probability'].values):.3f}")

def lgbm():
    return lgb.LGBMClassifier(n_estimators=300, learning_rate=0.03, num_leaves=15,
                              min_child_samples=50, verbose=-1)

for label, files in (("2024's inspected", ["train2024.csv"]),
                     ("2023's and 2024's inspected", ["train2023.csv", "train2024.csv"])):
    train = pd.concat([load(f) for f in files])
    model = lgbm().fit(typed(train, train)[v3], train["inspection_problem"].astype(int))
    p = model.predict_proba(typed(everyone, train)[v3])[:, 1]
    print(f"LightGBM trained on {label} ({len(train)}), v3: {roc_auc_score(violates, p):.3f}")

half = np.random.default_rng(1).random(len(everyone)) < 0.5
frame = typed(everyone, everyone)
frame["management"] = truth.loc[everyone["subject"], "management"].values
for name, features in (("v1", v1), ("v2", v2), ("v3", v3),
                       ("v3 and the hidden management quality", v3 + ["management"])):
    model = lgb.LGBMClassifier(n_estimators=400, learning_rate=0.03, num_leaves=31, verbose=-1)
    model.fit(frame.loc[half, features], violates[half])
    p = model.predict_proba(frame.loc[~half, features])[:, 1]
    print(f"LightGBM trained on the truth for half, {name}: {roc_auc_score(violates[~half], p):.3f}")

# The candidates: per employee, where management quality would show (wages
# and output per head); the record holds them for enterprises only.
tax = pd.read_csv(f"{work}/candidates_tax.csv", dtype={"subject": str}).set_index("subject")
insured = pd.read_csv(f"{work}/candidates_insured.csv", dtype={"subject": str}).set_index("subject")
frame = frame.join(tax, on="subject").join(insured, on="subject")
quarterly = np.where(frame["entity_type"].astype(str) == "individual_business", 3.0, 1.0)
frame["income_tax_per_employee"] = frame["income_tax_per_month"] / frame["employees"]
frame["revenue_per_employee"] = frame["revenue_per_filing"] / quarterly / frame["employees"]
frame["income_tax_per_insured"] = frame["income_tax_per_month"] / frame["insured"]
candidates = ["income_tax_per_employee", "revenue_per_employee", "income_tax_per_insured"]
model = lgb.LGBMClassifier(n_estimators=400, learning_rate=0.03, num_leaves=31, verbose=-1)
model.fit(frame.loc[half, v3 + candidates], violates[half])
p = model.predict_proba(frame.loc[~half, v3 + candidates])[:, 1]
print(f"LightGBM trained on the truth for half, v3 and three per-employee candidates: "
      f"{roc_auc_score(violates[~half], p):.3f}")
management = frame["management"].values
for c in candidates + ["insurance_coverage", "tax_paid_per_employee"]:
    x = np.log(frame[c].where(frame[c] > 0))
    held = np.isfinite(x)
    print(f"  {c}: held for {held.sum()} of {len(frame)}, "
          f"correlation of its log with the management quality {np.corrcoef(x[held], management[held])[0, 1]:.2f}")
PY
