"""Writes an Iceberg test table with the reference implementation (pyiceberg, pinned in
requirements.txt) through a SQL catalog on SQLite, for tests/delta.rs.

    make_iceberg.py WAREHOUSE

Three snapshots: append ids 1-10, append ids 11-20, delete the rows whose status is
'cancelled'. Prints a JSON summary: the table's location and its rows now.
"""

import json
import os
import sys

import pyarrow as pa
from pyiceberg.catalog.sql import SqlCatalog


def rows(ids):
    statuses = ["paid", "shipped", "cancelled", "pending", "paid"]
    return pa.table(
        {
            "id": pa.array(ids, pa.int64()),
            "status": pa.array([statuses[(i - 1) % 5] for i in ids], pa.string()),
        }
    )


def main():
    warehouse = os.path.abspath(sys.argv[1])
    os.makedirs(warehouse, exist_ok=True)
    catalog = SqlCatalog(
        "sluice",
        uri=f"sqlite:///{warehouse}/catalog.db",
        warehouse=f"file://{warehouse}",
    )
    catalog.create_namespace("shop")
    table = catalog.create_table("shop.orders", schema=rows([1]).schema)
    table.append(rows(list(range(1, 11))))
    table.append(rows(list(range(11, 21))))
    table.delete("status == 'cancelled'")
    now = table.scan().to_arrow().num_rows
    json.dump({"location": table.location(), "rows": now}, sys.stdout)


if __name__ == "__main__":
    main()
