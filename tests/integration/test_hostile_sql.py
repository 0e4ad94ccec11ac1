"""Plain SQL dumps that try to run programs: each restore fails, and the proof that nothing ran
is inside the container itself: the files the statements would create do not exist."""

import subprocess
from contextlib import contextmanager

import pytest

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


@contextmanager
def restore_container(engine: dict, tmp_path):
    """A started restore container of a site with `engine`, removed at the end: (runtime, plan, site)."""
    from drills.catalog import load_catalog
    from drills.engines import ENGINES
    from tests.helpers import write_catalog

    site = load_catalog(write_catalog(tmp_path, [{**site_entry("hostile", tmp_path, tmp_path / "k"),
                                                  "engine": engine}])).sites[0]
    runtime, work = DockerRuntime(), make_work_dir("hostile-restore")
    plan = ENGINES[engine["type"]].plan(site, "hostile-restore", str(work))
    runtime.start(plan.container)
    try:
        yield runtime, plan, site
    finally:
        runtime.remove(plan.container.name)
        subprocess.run(["rm", "-rf", str(work)], check=True)


MARIADB_HOSTILE = {
    "shell escape": b"CREATE TABLE t1 (id int);\n\\! touch /tmp/pwned-shell\n",
    "system command": b"CREATE TABLE t2 (id int);\nsystem touch /tmp/pwned-system\n",
    "pager to a program": b"pager sh -c 'touch /tmp/pwned-pager'\nSELECT 1;\n",
    "INTO OUTFILE": b"SELECT 'owned' INTO OUTFILE '/tmp/pwned-outfile';\n",
}
ENGINES_SETTINGS = {"postgres": {"type": "postgres", "format": "plain"}, "mariadb": {"type": "mariadb"}}
CASES = [("postgres", name, dump) for name, dump in HOSTILE.items()] + \
        [("mariadb", name, dump) for name, dump in MARIADB_HOSTILE.items()]


@pytest.mark.parametrize("engine, name, dump", CASES, ids=[f"{engine}: {name}" for engine, name, _ in CASES])
def test_a_hostile_dump_fails_and_runs_nothing(engine, name, dump, docker_engine, tmp_path):
    from drills.engines import executor

    with restore_container(ENGINES_SETTINGS[engine], tmp_path) as (runtime, plan, site):
        container = plan.container.name
        with pytest.raises(BackupProblem) as refused:
            executor.restore(plan, runtime, container, site.engine, iter([dump]))
        assert refused.value.code == "restore.failed"
        left = runtime.run(container, ["sh", "-c", "ls /tmp/pwned-* 2>/dev/null | wc -l"], timeout=10).output.strip()
        assert left == "0", f"{name}: a statement ran"
