"""Discovery over the published tables: GA4GH Beacon v2 and Data Connect."""
