"""Plain SQL dumps that try to run programs: each restore fails, and the proof that nothing ran
is inside the container itself: the files the statements would create do not exist."""

import subprocess

import pytest

from drills.engines import postgres
from drills.errors import BackupProblem
from drills.runtimes.docker import DockerRuntime
from drills.workdir import make_work_dir
from tests.helpers import site_entry

HOSTILE = {
    "copy to program": b"CREATE TABLE public.t (id integer);\nCOPY (SELECT 1) TO PROGRAM 'touch /tmp/pwned-copy';\n",
    "psql shell escape": b"CREATE TABLE public.u (id integer);\n\\! touch /tmp/pwned-shell\n",
    "C function calling system()": (
        b"CREATE FUNCTION public.run(text) RETURNS integer LANGUAGE c AS '/lib/x86_64-linux-gnu/libc.so.6', 'system';\n"
        b"SELECT public.run('touch /tmp/pwned-c');\n"),
    "untrusted language": b"CREATE FUNCTION public.sh() RETURNS void LANGUAGE plperlu AS $$ system('touch /tmp/pwned-perl') $$;\n",
}


def restore_container(engine: dict, tmp_path):
    """A ready restore container of a site with `engine`, removed at the end: (runtime, name, site)."""
    from drills.catalog import load_catalog
    from drills.engines import ENGINES
    from tests.helpers import write_catalog

    site = load_catalog(write_catalog(tmp_path, [{**site_entry("hostile", tmp_path, tmp_path / "k"),
                                                  "engine": engine}])).sites[0]
    runtime, work, module = DockerRuntime(), make_work_dir("hostile-restore"), ENGINES[engine["type"]]
    spec = module.container_spec(site, "hostile-restore", str(work))
    runtime.start(spec)
    try:
        module.wait_ready(runtime, spec.name)
        yield runtime, spec.name, site
    finally:
        runtime.remove(spec.name)
        subprocess.run(["rm", "-rf", str(work)], check=True)


@pytest.fixture
def server(docker_engine, tmp_path):
    yield from restore_container({"type": "postgres", "format": "plain"}, tmp_path)


@pytest.fixture
def mariadb_server(docker_engine, tmp_path):
    yield from restore_container({"type": "mariadb"}, tmp_path)


@pytest.mark.parametrize("name", HOSTILE)
def test_a_hostile_plain_dump_fails_and_runs_nothing(server, name):
    runtime, container, site = server
    with pytest.raises(BackupProblem) as refused:
        postgres.restore(runtime, container, site.engine, iter([HOSTILE[name]]))
    assert refused.value.code == "restore.failed"
    left = runtime.run(container, ["sh", "-c", "ls /tmp/pwned-* 2>/dev/null | wc -l"], timeout=10).output.strip()
    assert left == "0", f"{name}: a statement ran"


MARIADB_HOSTILE = {
    "shell escape": b"CREATE TABLE t1 (id int);\n\\! touch /tmp/pwned-shell\n",
    "system command": b"CREATE TABLE t2 (id int);\nsystem touch /tmp/pwned-system\n",
    "pager to a program": b"pager sh -c 'touch /tmp/pwned-pager'\nSELECT 1;\n",
    "INTO OUTFILE": b"SELECT 'owned' INTO OUTFILE '/tmp/pwned-outfile';\n",
}


@pytest.mark.parametrize("name", MARIADB_HOSTILE)
def test_a_hostile_mysqldump_fails_and_runs_nothing(mariadb_server, name):
    from drills.engines import mariadb

    runtime, container, site = mariadb_server
    with pytest.raises(BackupProblem) as refused:
        mariadb.restore(runtime, container, site.engine, iter([MARIADB_HOSTILE[name]]))
    assert refused.value.code == "restore.failed"
    left = runtime.run(container, ["sh", "-c", "ls /tmp/pwned-* 2>/dev/null | wc -l"], timeout=10).output.strip()
    assert left == "0", f"{name}: a statement ran"
