"""The Lambda handlers, one folder per function (each folder is a CodeUri in template.yaml)."""
