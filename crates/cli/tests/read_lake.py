"""Reads a Xinyong record lake with pyarrow, an independent Parquet
implementation, and prints what it found as JSON: rows per item, rows in the
quarantine dataset, and whether every file is sorted by subject."""
import json
import pathlib
import sys

import pyarrow.dataset as ds
import pyarrow.parquet as pq

lake = pathlib.Path(sys.argv[1])
found = {"items": {}, "quarantined": 0, "unsorted": [], "columns": {}}
for item in sorted(p for p in lake.iterdir() if p.is_dir() and not p.name.startswith("_")):
    table = ds.dataset(item, format="parquet", partitioning="hive").to_table()
    found["items"][item.name] = table.num_rows
    found["columns"][item.name] = table.schema.names
    for file in item.rglob("*.parquet"):
        subjects = pq.read_table(file, columns=["subject"]).column("subject").to_pylist()
        present = [s for s in subjects if s is not None]
        if present != sorted(present):
            found["unsorted"].append(str(file))
quarantine = lake / "_quarantine"
if quarantine.exists():
    found["quarantined"] = ds.dataset(quarantine, format="parquet").to_table().num_rows
print(json.dumps(found))
