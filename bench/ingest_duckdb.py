#!/usr/bin/env python3
"""Peer for the ingest benchmark, on Xinyong's tax_payment layout
(subject,period,tax_type,taxable_revenue,amount_due,amount_paid,paid_on).

DuckDB reads the CSV, keeps rows whose code matches the USCC pattern (it checks
no check character), aggregates per entity, and separately converts the CSV to
Parquet: the work `xinyong ingest` does while also checking every check
character, cleansing, deduplicating and keeping lineage. Adapted from
shared/peers/ingest_duckdb.py to the catalog's columns. Prints:
   tool=duckdb validate_aggregate_s=F csv_to_parquet_s=G rows=N entities=M
Usage: ingest_duckdb.py FILE.csv OUT_DIR   (pip: duckdb)"""
import os
import sys
import time

import duckdb

src, out = sys.argv[1], sys.argv[2]
os.makedirs(out, exist_ok=True)
con = duckdb.connect()
cols = ("{'subject':'VARCHAR','period':'VARCHAR','tax_type':'VARCHAR','taxable_revenue':'DOUBLE',"
        "'amount_due':'DOUBLE','amount_paid':'DOUBLE','paid_on':'DATE'}")
t0 = time.perf_counter()
con.execute(f"""CREATE TABLE agg AS
  SELECT subject, count(*) AS n, sum(amount_paid) AS tax, count(DISTINCT period) AS n_months,
         sum(CASE WHEN amount_paid < amount_due THEN 1 ELSE 0 END) AS arrears
  FROM read_csv('{src}', header=true, columns={cols})
  WHERE regexp_full_match(subject, '[0-9A-HJ-NPQRTUWXY]{{2}}[0-9]{{6}}[0-9A-HJ-NPQRTUWXY]{{10}}')
  GROUP BY subject""")
t1 = time.perf_counter()
con.execute(f"COPY (SELECT * FROM read_csv('{src}', header=true, columns={cols})) TO '{out}/tax.parquet' (FORMAT parquet)")
t2 = time.perf_counter()
rows, ents = con.execute("SELECT sum(n), count(*) FROM agg").fetchone()
print(f"tool=duckdb validate_aggregate_s={t1 - t0:.3f} csv_to_parquet_s={t2 - t1:.3f} rows={rows} entities={ents}")
