"""Data quality: Great Expectations suites and the rule catalogue, run after every load."""
