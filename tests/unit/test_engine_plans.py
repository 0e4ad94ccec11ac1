"""Each engine's exact plan, as data, and the one executor that runs any plan, against the stub
runtime (the real engines run in tests/integration/test_engine_conformance.py)."""

import io
import shutil
import subprocess
import tarfile
import tempfile
from dataclasses import replace
from pathlib import Path
from types import SimpleNamespace

import pytest

from drills.engines import ENGINES, executor, files, mariadb, sqlite
from drills.engines.plain_sql import without_privileges
from drills.engines.plan import EARLY, RESTORE, SETUP, WORK_INSIDE
from drills.errors import BackupProblem, InfrastructureError
from drills.runtimes.spec import ExecResult
from drills.runtimes.stub import HANGS, StubRuntime

WORK = "/run/restore-drill/d1.tok"
SOCKET = ("-h", "/run/drill", "-U", "postgres")


def planned(engine: str, **settings):
    site = SimpleNamespace(id="pharmacie", engine=ENGINES[engine].settings(tmpfs="64m", memory="256m", **settings))
    return site, ENGINES[engine].plan(site, "d1", WORK)


def steps(plan) -> list[tuple]:
    return [(step.what, step.when, step.dump, step.command) for step in plan.steps]


CREATE_POSTGRES = ("creating the restore database", SETUP, False, (
    "psql", "-X", "-q", "-v", "ON_ERROR_STOP=1", *SOCKET, "-d", "postgres",
    "-c", "CREATE ROLE restorer LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE", "-c", "CREATE DATABASE restore OWNER restorer"))
PG_RESTORE = ("pg_restore", "--exit-on-error", "--no-owner", "--no-acl", *SOCKET, "-d", "restore")


def test_postgres_custom_one_job_streams_into_pg_restore_once_the_database_exists():
    _, plan = planned("postgres", format="custom", jobs=1)
    assert steps(plan) == [CREATE_POSTGRES, ("pg_restore", RESTORE, True, PG_RESTORE)]
    assert plan.ready == ("pg_isready", "-q", *SOCKET) and plan.filters == ()
    assert plan.data_mounts == ("/var/lib/postgresql/data", "/tmp") and plan.last_error.full == {"53100"}


def test_postgres_custom_with_jobs_restores_the_dump_the_host_wrote_into_the_work_directory():
    _, plan = planned("postgres", format="custom", jobs=3)
    assert plan.receive == "backup.dump" and plan.filters == ()
    assert steps(plan) == [CREATE_POSTGRES, ("pg_restore", RESTORE, False, (*PG_RESTORE, "--jobs=3",
                                                                            "/run/drill/backup.dump"))]


def test_postgres_directory_format_untars_then_restores_the_folder_holding_toc_dat():
    _, plan = planned("postgres", format="directory", jobs=2)
    (stage, create, restore) = steps(plan)
    assert stage[:3] == ("staging the dump in the container", EARLY, True) and "tar -x -C /tmp/backup.d" in stage[3][2]
    assert create == CREATE_POSTGRES
    assert restore[:3] == ("pg_restore", RESTORE, False) and "--jobs=2 -Fd" in restore[3][2]


def test_postgres_plain_sql_runs_as_the_unprivileged_role_without_privilege_statements():
    _, plan = planned("postgres", format="plain")
    assert steps(plan) == [CREATE_POSTGRES, ("psql", RESTORE, True, (
        "psql", "-X", "-q", "-o", "/dev/null", "-v", "ON_ERROR_STOP=1", "-v", "VERBOSITY=sqlstate",
        "-h", "/run/drill", "-U", "restorer", "-d", "restore", "-f", "-"))]
    assert plan.filters == (without_privileges,)


def test_mariadb_creates_its_database_then_streams_the_dump_without_client_commands():
    site, plan = planned("mariadb", database="lgo")
    client = ("--no-defaults", "--socket=/run/drill/mysqld.sock", "--user=root")
    assert steps(plan) == [
        ("creating the restore database", SETUP, False, ("mariadb", *client, "-e", "CREATE DATABASE IF NOT EXISTS `lgo`")),
        ("mariadb", RESTORE, True, ("mariadb", *client, "--binary-mode", "lgo"))]
    assert plan.ready == ("mariadb-admin", *client, "ping")
    assert plan.filters == (mariadb.without_client_commands,) and plan.data_mounts == ("/var/lib/mysql",)


def test_sqlite_receives_the_file_checks_its_integrity_and_sets_its_code_aside():
    _, plan = planned("sqlite")
    assert plan.receive == "restored.sqlite" and plan.filters == (), "receiving caps what it writes"
    assert [(what, when, dump) for what, when, dump, _ in steps(plan)] == [
        ("SQLite's integrity check", RESTORE, False), ("setting the file's views and triggers aside", RESTORE, False)]
    assert plan.steps[0].command == ("sqlite3", "-readonly", "/run/drill/restored.sqlite",
                                     "PRAGMA cache_size=-65536; PRAGMA integrity_check;"), "a quarter of 256m, no mmap"
    assert plan.steps[0].expect == "ok" and "writable_schema" in plan.steps[1].command[2]
    assert plan.ready == ("true",) and plan.container.command == ["sleep", "infinity"]


def test_files_extracts_with_tar_capped_and_requires_the_end_of_archive():
    _, plan = planned("files")
    assert [(what, when, dump) for what, when, dump, _ in steps(plan)] == [("tar", RESTORE, True)]
    assert plan.steps[0].command == ("sh", "-c", files.EXTRACT)
    assert plan.filters[0].keywords == {"limit": 64 * 1024**2} and plan.filters[1] is files.ending_as_tar_does


@pytest.mark.parametrize("name", sorted(ENGINES))
def test_every_plan_takes_the_dump_once_in_a_hardened_container(name):
    site, plan = planned(name)
    assert sum(step.dump for step in plan.steps) + (plan.receive is not None) == 1
    spec = plan.container
    assert spec.read_only and spec.user == "999:999" and spec.cap_add == [] and spec.memory == 256 * 1024**2
    assert spec.binds == {WORK: "/run/drill"} and spec.name == "restore-drill-d1.tok"
    assert ENGINES[name].options.fields["type"].choices == (name,)


def extract(tmp_path, archive: bytes) -> subprocess.CompletedProcess:
    """files.EXTRACT run by the host's sh and tar, in a folder standing for the work directory."""
    script = files.EXTRACT.replace("/run/drill", str(tmp_path))
    return subprocess.run(["sh", "-c", script], input=archive, capture_output=True)


def test_tar_refusing_members_is_not_a_failed_extraction_but_another_error_is(tmp_path):
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w") as archive:
        for name in ("scans/a.pdf", "../escape.txt"):
            archive.addfile(tarfile.TarInfo(name), io.BytesIO(b""))
    refused_only = extract(tmp_path, buffer.getvalue())
    assert refused_only.returncode == 0 and (tmp_path / "root" / "scans" / "a.pdf").exists()
    assert "../escape.txt: Member name contains '..'" in files.refused(str(tmp_path))
    damaged = extract(tmp_path, b"not a tar archive at all" * 100)
    assert damaged.returncode != 0 and "This does not look like a tar archive" in damaged.stdout.decode()


def restore(plan, site, runtime, dump=(b"DUMP",)):
    """The plan run by the executor; a plan that receives the dump gets a real work directory in memory."""
    work = Path(tempfile.mkdtemp(prefix="rd-test-", dir="/dev/shm"))
    plan = replace(plan, container=replace(plan.container, binds={str(work): WORK_INSIDE}))
    try:
        runtime.start(plan.container)
        executor.restore(plan, runtime, plan.container.name, site.engine, iter(dump))
    finally:
        shutil.rmtree(work)


def test_the_servers_version_is_its_first_line_printable_and_capped_and_never_fails_a_drill():
    site, plan = planned("postgres", jobs=1)
    assert plan.version == ("postgres", "--version")

    def version(runtime):
        runtime.start(plan.container)
        return executor.server_version(plan, runtime, plan.container.name)

    said = ExecResult(0, "postgres (PostgreSQL) 16.4\x1b[31m\u202e" + "9" * 500 + "\nsecond line\n")
    read = version(StubRuntime({"postgres": said}))
    assert read.startswith("postgres (PostgreSQL) 16.4[31m9") and len(read) == executor.VERSION_CHARS
    assert version(StubRuntime({"postgres": ExecResult(127, "not found")})) is None
    assert version(StubRuntime({"postgres": HANGS})) is None
    assert executor.server_version(plan, StubRuntime(), "gone") is None, "a container that is no more"
    assert {name: ENGINES[name].plan(planned(name)[0], "d1", WORK).version for name in ENGINES} == {
        "postgres": ("postgres", "--version"), "sqlite": ("sqlite3", "--version"), "files": ("tar", "--version"),
        "mariadb": ("sh", "-c", "mariadbd --version 2>/dev/null")}  # its warnings before the version: on stderr


def failure(plan, site, runtime, dump=(b"DUMP",)) -> BackupProblem:
    with pytest.raises(BackupProblem) as raised:
        restore(plan, site, runtime, dump)
    return raised.value


def test_a_failed_step_keeps_the_tools_structure_and_the_servers_sqlstate_in_words():
    site, plan = planned("postgres", jobs=1)
    runtime = StubRuntime({"pg_restore": ExecResult(1, 'pg_restore: error: COPY failed: ERROR:  invalid "DUPONT"'),
                           "sh": ExecResult(0, "22P02\n")})
    problem = failure(plan, site, runtime)
    assert problem.code == "restore.failed"
    assert problem.message == ("pg_restore failed (exit 1): pg_restore: error: COPY failed: ERROR "
                               "(SQLSTATE 22P02: data exception)") and "DUPONT" not in problem.message


def test_the_servers_disk_full_code_is_restore_too_large():
    site, plan = planned("postgres", jobs=1)
    problem = failure(plan, site, StubRuntime({"pg_restore": ExecResult(1, "pg_restore: error"),
                                               "sh": ExecResult(0, "53100")}))
    assert problem.code == "restore.too_large" and "engine.tmpfs" in problem.message


def test_mariadbs_own_error_number_for_a_full_table_is_restore_too_large():
    site, plan = planned("mariadb")
    runtime = StubRuntime({"mariadb": lambda command, data: ExecResult(1 if data else 0, "ERROR 1114 (HY000) at line 9: "
                                                                                         "The table 'x' is full")})
    assert failure(plan, site, runtime).code == "restore.too_large"


def test_a_data_mount_the_runtime_finds_full_is_restore_too_large_and_oom_comes_first():
    site, plan = planned("postgres", format="directory")
    staging_fails = {"sh": lambda command, data: ExecResult(1 if data else 0, "tar: write error")}
    full = StubRuntime(staging_fails, free={"/tmp": 4096, "/var/lib/postgresql/data": 10**9})
    assert failure(plan, site, full).code == "restore.too_large"
    roomy = StubRuntime(staging_fails, free={"/tmp": 10**9, "/var/lib/postgresql/data": 10**9})
    assert failure(plan, site, roomy).code == "restore.failed"
    killed = StubRuntime(staging_fails, oom_killed=True, free={"/tmp": 0})
    assert failure(plan, site, killed).code == "restore.out_of_memory"


def test_a_setup_step_failing_is_ours_and_a_server_that_never_answers_too():
    site, plan = planned("mariadb")
    runtime = StubRuntime({"mariadb": ExecResult(1, "mariadb: Access denied")})
    with pytest.raises(InfrastructureError) as raised:
        restore(plan, site, runtime)
    assert raised.value.code == "error.runtime" and raised.value.message.startswith("creating the restore database")
    never = replace(plan, ready_timeout=0.2, ready_interval=0.05)
    with pytest.raises(InfrastructureError) as raised:
        restore(never, site, StubRuntime({"mariadb-admin": ExecResult(1, "")}))
    assert "the MariaDB server did not start within 0.2 s" in raised.value.message


def test_an_unexpected_output_fails_the_step_and_nothing_after_it_runs():
    site, plan = planned("sqlite")
    runtime = StubRuntime({"sqlite3": ExecResult(0, "*** in database main ***\nPage 3 is never used")})
    problem = failure(plan, site, runtime)
    assert problem.code == "restore.failed" and problem.message.startswith("SQLite's integrity check failed: ")
    assert runtime.commands() == ["true", "sqlite3"]


def test_the_dump_goes_through_the_filters_a_refusal_and_a_cap_included():
    site, plan = planned("mariadb")
    assert "client command" in failure(plan, site, StubRuntime(), [b"SELECT 1;\n\\! touch /tmp/x\n"]).message
    site, plan = planned("sqlite")
    assert failure(plan, site, StubRuntime(), [bytes(40 * 1024**2)] * 2).code == "restore.too_large"
    site, plan = planned("files")
    truncated = failure(plan, site, StubRuntime(), [b"x" * 2048])
    assert truncated.code == "restore.failed" and "truncated" in truncated.message


def test_the_steps_run_in_order_and_a_hanging_one_is_restore_timeout():
    site, plan = planned("sqlite")
    runtime = StubRuntime({"sqlite3": ExecResult(0, "ok\n")})
    restore(plan, site, runtime, [b"SQLite format 3\x00"])
    assert runtime.commands() == ["true", "sqlite3", "sqlite3"]
    assert failure(plan, site, StubRuntime({"sqlite3": HANGS})).code == "restore.timeout"


@pytest.mark.parametrize("log, code", [
    ("22021 ERROR:  invalid byte sequence\n08006 FATAL:  connection to client lost\n", "22021"),  # -j 2 stopping
    ("57P03 FATAL:  the database system is starting up\n", "57P03"),
    ("57P03 FATAL:  starting up\n53100 ERROR:  could not extend file\n08006 FATAL:  lost\n", "53100"),
    ("", ""),
])
def test_the_servers_error_code_is_the_last_error_a_fatal_only_without_one(tmp_path, log, code):
    """The command the postgres plan runs in its container, run here on a server log of that shape."""
    import subprocess

    from drills.engines.postgres import LAST_ERROR, SERVER_LOG

    (tmp_path / "server.log").write_text(log)
    script = LAST_ERROR.command[2].replace(SERVER_LOG, str(tmp_path / "server.log"))
    assert subprocess.run(["sh", "-c", script], capture_output=True, text=True).stdout.strip() == code
