"""The CUR 2.0 query (``cur_showback.sql``): one SQL text that Athena (Trino) and DuckDB both run.

Organizations past what CloudWatch reads serve (more than 455 days back, or no metrics at all for a
surface) point the report at the Cost and Usage Report. The table name is the only part substituted
(a validated identifier, never a value); the period goes in as the query's two parameters
(Athena: ``ExecutionParameters``; DuckDB: ``execute(sql, params)``). The tests run it on DuckDB over
local Parquet; the Athena path is not run here.
"""

import re
from importlib import resources

from tokenfuse.showback.period import Period

_IDENTIFIER = re.compile(r'^("?[A-Za-z_][A-Za-z0-9_]*"?)(\."?[A-Za-z_][A-Za-z0-9_]*"?)?$')


def cur_query(table: str) -> str:
    """The query for ``table`` (``cur2``, ``"cid_data_export"."cur2"``); ValueError for anything else."""
    if not _IDENTIFIER.fullmatch(table):
        raise ValueError(f"not a table name: {table!r}")
    text = resources.files("tokenfuse.showback").joinpath("cur_showback.sql").read_text(encoding="utf-8")
    return text.replace("{cur_table}", table)


def cur_parameters(period: Period) -> list[str]:
    return [f"{period.start:%Y-%m-%d} 00:00:00", f"{period.end:%Y-%m-%d} 00:00:00"]
