"""The `drill` command's subcommands, one module per family, each with one shape:
`register(add)` declares its commands (`add("keys rotate", run, help)` returns the argparse
parser to add arguments to) and each command is a function of the parsed arguments returning
the exit code. Packages outside `drills` plug in the same way (entry-point group
`restore_drill.commands`): `workers` and `dashboard` do.

A family's module imports only what `drill --help` can afford (no Docker, DuckDB or dramatiq):
heavier modules are imported inside the commands that need them."""

from drills.commands import (catalog, completion, compliance, drilling, evidence, history, keys, recovery, site_side,
                             tokens, users, verification)

FAMILIES = (catalog, drilling, recovery, history, site_side, verification, evidence, compliance, keys, users, tokens,
            completion)
