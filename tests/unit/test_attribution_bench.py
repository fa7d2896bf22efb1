"""The attribution benchmark's fakes and its RESULTS.md section writer (small sizes only)."""

import bench.attribution as attribution
from bench.__main__ import replace_section


def test_small_fleet_finds_the_storm_within_the_call_budget():
    # Given 200 profiles, 40% idle, one storming
    figures = attribution.measure(200, 1)
    # Then two passes: ceil(400/500) + ceil(120 x 5 / 500) calls
    assert (figures["active"], figures["calls"]) == (120, 3)
    assert figures["cpu_s"] < 2


def test_sections_are_replaced_and_others_kept():
    text = "# Benchmark results\n\n## Other\n\nkeep\n\n## Attribution\n\nold\n"
    text = replace_section(text, "Attribution", "new")
    assert "old" not in text and "new" in text and "keep" in text
    assert replace_section("# R\n", "Attribution", "x").endswith("## Attribution\n\nx\n")
