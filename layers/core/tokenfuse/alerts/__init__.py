"""Alerts: render (pure: Slack Block Kit, email) and deliver (service + adapters) an incident's messages."""
