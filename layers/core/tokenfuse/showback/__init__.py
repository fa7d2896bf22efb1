"""Showback and forecast: what each team, feature and environment spent on Bedrock, per request, week by
week; where the month will land; which lever would move it; the budgets that would hold it.

- ``period``: the report's days (Monday to Sunday UTC by default) and the one before;
- ``reading``: the daily usage of every ``ModelId`` series of a scope (application profiles and models
  called directly), read with attribution's CloudWatch reader and priced with its price table;
- ``figures``: the report itself (pure): per team, feature and environment, the unattributed part,
  the attributable %, the biggest movers;
- ``levers``, ``forecast``, ``budgets``, ``reconcile``: sized levers, the bottom-up forecast, the
  proposed AWS Budgets, the variance against Cost Explorer (pure);
- ``render``, ``digest``: the terminal table, CSV, the HTML page, and the weekly digest's messages;
- ``cur``: the Cost and Usage Report (CUR 2.0) query, one SQL text for Athena and DuckDB.
"""
