"""The meter function's folder: SAM ships it as the Lambda code (`Handler: app.lambda_handler`,
which loads `app.py` as a top-level module); this file only makes it `functions.meter.app` for mypy
and import-linter."""
