"""The demo's story: a seeded organization, a week of traffic, a runaway profile, and tokenfuse
containing it in the sandbox on the simulated clock (``driver.run_demo``; ``tokenfuse demo`` calls it)."""
