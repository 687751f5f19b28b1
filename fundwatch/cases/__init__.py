"""From rule hits and outlier scores to one ranked case per entity and year."""
