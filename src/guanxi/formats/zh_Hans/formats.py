"""Overrides of Django's zh-Hans formats: Chinese business documents group digits by three with a
comma (1,234,567.00), as banks and accounting software do; Django's default shows no separator."""

THOUSAND_SEPARATOR = ","
NUMBER_GROUPING = 3
