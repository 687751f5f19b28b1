"""What a scan writes: case lists, rule hits, run records and reports."""
