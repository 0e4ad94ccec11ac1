"""Where the data lives: each storage location of a site (its backups, the evidence replica),
declared in the catalog's `hosting` and, for S3, read from the service at each drill.

countries.py holds the EEA and ISO 3166 as data, regions.py the region -> country tables,
bucket.py reads a bucket's region, check.py makes the drill's `hosting` record and its findings
(docs/hosting.md).
"""
