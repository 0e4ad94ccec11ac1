"""A demo pharmacy database and backups made as a site makes them."""
