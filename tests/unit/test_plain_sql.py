"""Plain SQL without ownership and privilege lines; COPY data untouched."""

from drills.engines.plain_sql import without_privileges

DUMP = b"""CREATE TABLE public.notes (id integer, texte text);
ALTER TABLE public.notes OWNER TO lgo_admin;
COPY public.notes (id, texte) FROM stdin;
1\tGRANT ALL ON everything TO everyone;
2\tALTER TABLE x OWNER TO y;
\\.
GRANT SELECT ON TABLE public.notes TO lecteur;
REVOKE ALL ON SCHEMA public FROM PUBLIC;
SET SESSION AUTHORIZATION 'lgo_admin';
CREATE INDEX ON public.notes (id);
"""


def filtered(data: bytes, size: int) -> bytes:
    return b"".join(without_privileges(data[i:i + size] for i in range(0, len(data), size)))


def test_ownership_and_privilege_lines_are_dropped_and_copy_rows_kept_whatever_the_chunking():
    expected = b"""CREATE TABLE public.notes (id integer, texte text);
COPY public.notes (id, texte) FROM stdin;
1\tGRANT ALL ON everything TO everyone;
2\tALTER TABLE x OWNER TO y;
\\.
CREATE INDEX ON public.notes (id);
"""
    for size in (1, 7, 64, len(DUMP)):
        assert filtered(DUMP, size) == expected


def test_a_statement_that_only_mentions_owner_is_kept():
    sql = b"CREATE TABLE proprietaires (owner_name text);\nCOMMENT ON TABLE x IS 'GRANT';\n"
    assert filtered(sql, 10) == sql


def test_a_shell_escape_outside_copy_data_is_refused_wherever_it_stands():
    import pytest

    from drills.errors import BackupProblem

    for hostile in (b"\\! touch /tmp/pwned\n", b"  \\o | sh\n", b"SELECT 1;\n\\! id"):
        with pytest.raises(BackupProblem) as refused:
            filtered(DUMP + hostile, 7)
        assert refused.value.code == "restore.failed" and "meta-command" in refused.value.message
    assert filtered(b"\\restrict abc\n" + DUMP + b"\\unrestrict abc\n", 5).startswith(b"\\restrict abc\n")


def test_mariadb_client_commands_are_refused_and_a_last_line_is_held_until_checked():
    import pytest

    from drills.engines.mariadb import without_client_commands
    from drills.errors import BackupProblem

    dump = b"CREATE TABLE t (id int);\nINSERT INTO t VALUES (1),(2);\n"
    assert b"".join(without_client_commands([dump[:10], dump[10:]])) == dump
    for hostile in (b"\\! touch /tmp/x\n", b"system touch /tmp/x\n", b"  PAGER sh\n", b"source /etc/passwd"):
        with pytest.raises(BackupProblem):
            list(without_client_commands([dump, hostile]))
    sent = []
    with pytest.raises(BackupProblem):
        for piece in without_client_commands([dump + b"\\! tou", b"ch /tmp/x"]):
            sent.append(piece)
    assert b"\\!" not in b"".join(sent)
