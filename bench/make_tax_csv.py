#!/usr/bin/env python3
"""Writes a tax_payment CSV of N rows (Xinyong's catalog layout) about the
entities of a synthetic city: monthly VAT and individual income tax, one row
per entity, month and tax type, cycling through the entities.
Usage: make_tax_csv.py TRUTH_ENTITIES.csv ROWS OUT.csv"""
import csv
import random
import sys

truth, rows, out = sys.argv[1], int(sys.argv[2]), sys.argv[3]
with open(truth, newline="") as f:
    subjects = [r["subject"] for r in csv.DictReader(f)]
rng = random.Random(1)
months = [f"{y}-{m:02d}" for y in range(2000, 2026) for m in range(1, 13)]
with open(out, "w", newline="") as f:
    f.write("subject,period,tax_type,taxable_revenue,amount_due,amount_paid,paid_on\n")
    written = 0
    for month in reversed(months):
        for tax_type in ("vat", "individual_income"):
            for subject in subjects:
                if written == rows:
                    sys.exit(0)
                revenue = rng.randrange(1000, 10_000_000) / 100
                due = round(revenue * 0.03, 2)
                paid = due if rng.random() > 0.02 else 0.0
                f.write(f"{subject},{month},{tax_type},{revenue:.2f},{due:.2f},{paid:.2f},{month}-10\n")
                written += 1
