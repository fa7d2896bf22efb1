"""The `tokenfuse` command (development and operations; not deployed)."""
