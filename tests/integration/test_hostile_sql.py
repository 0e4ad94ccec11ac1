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


@pytest.fixture
def server(docker_engine, tmp_path):
    """A restore container of a plain-format site, ready; removed after the test."""
    from drills.catalog import load_catalog
    from tests.helpers import write_catalog

    folder = tmp_path
    site = load_catalog(write_catalog(folder, [site_entry("hostile", folder, folder / "k",
                                                          engine={"format": "plain"})])).sites[0]
    runtime, work = DockerRuntime(), make_work_dir("hostile-sql")
    spec = postgres.container_spec(site, "hostile-sql", str(work))
    runtime.start(spec)
    postgres.wait_ready(runtime, spec.name)
    yield runtime, spec.name, site
    runtime.remove(spec.name)
    subprocess.run(["rm", "-rf", str(work)], check=True)


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


@pytest.fixture
def mariadb_server(docker_engine, tmp_path):
    from drills.catalog import load_catalog
    from drills.engines import mariadb
    from tests.helpers import write_catalog

    entry = {**site_entry("hostile", tmp_path, tmp_path / "k"), "engine": {"type": "mariadb"}}
    site = load_catalog(write_catalog(tmp_path, [entry])).sites[0]
    runtime, work = DockerRuntime(), make_work_dir("hostile-mariadb")
    spec = mariadb.container_spec(site, "hostile-mariadb", str(work))
    runtime.start(spec)
    mariadb.wait_ready(runtime, spec.name)
    yield runtime, spec.name, site
    runtime.remove(spec.name)
    subprocess.run(["rm", "-rf", str(work)], check=True)


@pytest.mark.parametrize("name", MARIADB_HOSTILE)
def test_a_hostile_mysqldump_fails_and_runs_nothing(mariadb_server, name):
    from drills.engines import mariadb

    runtime, container, site = mariadb_server
    with pytest.raises(BackupProblem) as refused:
        mariadb.restore(runtime, container, site.engine, iter([MARIADB_HOSTILE[name]]))
    assert refused.value.code == "restore.failed"
    left = runtime.run(container, ["sh", "-c", "ls /tmp/pwned-* 2>/dev/null | wc -l"], timeout=10).output.strip()
    assert left == "0", f"{name}: a statement ran"
