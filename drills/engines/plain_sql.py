r"""Plain SQL dumps without their ownership and privilege statements, as a stream.

What `pg_restore --no-owner --no-acl` does for custom dumps, for plain SQL: pg_dump writes
each `ALTER ... OWNER TO`, `GRANT`, `REVOKE` and `SET SESSION AUTHORIZATION` on one line;
those lines are dropped, since they name the site's roles (absent from the throwaway server)
and the unprivileged role restoring the dump may not run them. Rows inside a `COPY ... FROM
stdin` block are data and pass untouched, whatever they start with.

A psql meta-command outside a COPY block other than those pg_dump writes (`\connect`,
`\restrict`, `\unrestrict`) is refused: `\!` would run a shell command, `\o |` a program,
`\copy ... program` too. pg_dump never writes them, so such a dump is hostile or not a dump.
"""

import re
from typing import Iterator

from drills.errors import BackupProblem
from drills.streams import whole_lines
from drills import reasons

PRIVILEGES = re.compile(rb"(ALTER [A-Z ]+ .+ OWNER TO .+|GRANT .+|REVOKE .+|SET SESSION AUTHORIZATION .+);")
COPY_FROM_STDIN = re.compile(rb"COPY .+ FROM stdin;")
END_OF_COPY = b"\\."
PG_DUMP_META_COMMANDS = (b"\\connect ", b"\\restrict ", b"\\unrestrict ")


def without_privileges(chunks: Iterator[bytes]) -> Iterator[bytes]:
    in_copy = False
    for lines, terminated in whole_lines(chunks):
        kept, in_copy = filtered_lines(lines, in_copy)
        if kept:
            yield b"\n".join(kept) + (b"\n" if terminated else b"")


def filtered_lines(lines: list[bytes], in_copy: bool) -> tuple[list[bytes], bool]:
    """The lines kept, and whether the last one leaves us inside a COPY block."""
    kept = []
    for line in lines:
        if in_copy:
            in_copy = line != END_OF_COPY
        elif COPY_FROM_STDIN.fullmatch(line):
            in_copy = True
        elif PRIVILEGES.fullmatch(line):
            continue
        elif line.lstrip().startswith(b"\\") and not line.startswith(PG_DUMP_META_COMMANDS):
            raise BackupProblem(reasons.RESTORE_FAILED, f"the SQL dump holds a psql meta-command pg_dump never writes "
                                                        f"({line.strip()[:40].decode('utf-8', 'replace')!r}): refused",
                                hint="a hostile or hand-edited dump: check the backup job and who can write it")
        kept.append(line)
    return kept, in_copy
