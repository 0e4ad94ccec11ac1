"""Fixtures shared by every tier. A fixture needing a real part skips on a developer's
machine without it, and fails under CI (CI=true), where everything must be there."""

import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests import leftovers

IN_CI = os.environ.get("CI") == "true"
# Bytes that only decrypted patient data contains: custom-format dump magic, COPY of a plain
# dump, and the CIP13 code the demo generator gives product 1.
PLAINTEXT_MARKERS = (b"PGDMP", b"COPY public.patients", b"3400930000007")


def require(condition: bool, what: str) -> None:
    if not condition:
        if IN_CI:
            pytest.fail(f"{what} is required in CI (run `make setup`)")
        pytest.skip(f"{what} is not available here (run `make setup`)")


def docker_ready() -> bool:
    return shutil.which("docker") is not None and subprocess.run(
        ["docker", "info"], capture_output=True).returncode == 0


class RedisServer:
    """A real redis-server on a loopback port, owned by the test session."""

    def __init__(self, directory: Path):
        import socket

        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            self.port = probe.getsockname()[1]
        self.directory, self.process = directory, None
        self.url = f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        self.process = subprocess.Popen(
            ["redis-server", "--bind", "127.0.0.1", "--port", str(self.port), "--dir", str(self.directory),
             "--save", "", "--appendonly", "yes", "--protected-mode", "yes"], stdout=subprocess.DEVNULL)
        import redis

        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            try:
                redis.Redis.from_url(self.url).ping()
                return
            except redis.ConnectionError:
                time.sleep(0.05)
        raise RuntimeError("redis-server did not start")

    def stop(self) -> None:
        self.process.terminate()
        self.process.wait(10)

    def restart(self, down_seconds: float = 1.0) -> None:
        self.stop()
        time.sleep(down_seconds)
        self.start()


MOTO_SERVER = Path(sys.executable).with_name("moto_server")


class S3Server:
    """A real S3-protocol server (moto's, in server mode) on a loopback port."""

    def __init__(self):
        import socket

        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            self.port = probe.getsockname()[1]
        self.endpoint = f"http://127.0.0.1:{self.port}"
        self.process = subprocess.Popen([str(MOTO_SERVER), "-H", "127.0.0.1", "-p", str(self.port)],
                                        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            try:
                self.client().list_buckets()
                return
            except Exception:  # not listening yet
                time.sleep(0.1)
        raise RuntimeError("moto_server did not start")

    def client(self):
        import boto3

        return boto3.client("s3", endpoint_url=self.endpoint, region_name="eu-west-3",
                            aws_access_key_id="test-key", aws_secret_access_key="test-secret")

    def stop(self) -> None:
        self.process.terminate()
        self.process.wait(10)


SSHD = Path("/usr/sbin/sshd")


class SshServer:
    """Debian's OpenSSH server on a loopback port, key authentication only, with its keys and
    a known_hosts file naming its host key."""

    def __init__(self, directory: Path):
        import getpass
        import socket

        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            self.port = probe.getsockname()[1]
        self.directory, self.user = directory, getpass.getuser()
        for name in ("host", "client", "impostor"):
            subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(directory / name)], check=True)
        (directory / "authorized_keys").write_text((directory / "client.pub").read_text())
        self.key_file, self.known_hosts = directory / "client", directory / "known_hosts"
        self.write_known_hosts("host")
        Path("/run/sshd").mkdir(exist_ok=True)  # sshd's privilege separation directory
        (directory / "sshd_config").write_text("\n".join([
            f"ListenAddress 127.0.0.1:{self.port}", f"HostKey {directory / 'host'}",
            f"AuthorizedKeysFile {directory / 'authorized_keys'}", "PasswordAuthentication no",
            "KbdInteractiveAuthentication no", "PermitRootLogin prohibit-password", "StrictModes no",
            "UsePAM no", f"PidFile {directory / 'sshd.pid'}", "Subsystem sftp internal-sftp", ""]))
        self.process = subprocess.Popen([str(SSHD), "-D", "-e", "-f", str(directory / "sshd_config")],
                                        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            with socket.socket() as attempt:
                if attempt.connect_ex(("127.0.0.1", self.port)) == 0:
                    return
            time.sleep(0.05)
        raise RuntimeError("sshd did not start")

    def write_known_hosts(self, key_name: str) -> None:
        """Name `key_name`'s public key as the server's (another name: a changed host key)."""
        kind, key = (self.directory / f"{key_name}.pub").read_text().split()[:2]
        self.known_hosts.write_text(f"[127.0.0.1]:{self.port} {kind} {key}\n")

    def stop(self) -> None:
        self.process.terminate()
        self.process.wait(10)


@pytest.fixture(scope="session")
def ssh_server(tmp_path_factory):
    require(SSHD.exists(), "Debian's openssh-server")
    server = SshServer(tmp_path_factory.mktemp("sshd"))
    yield server
    server.stop()


@pytest.fixture(scope="session")
def s3_server():
    require(MOTO_SERVER.exists(), "moto_server (pip install 'moto[server]')")
    server = S3Server()
    yield server
    server.stop()


@pytest.fixture(scope="session")
def redis_server(tmp_path_factory):
    require(shutil.which("redis-server") is not None, "redis-server")
    server = RedisServer(tmp_path_factory.mktemp("redis"))
    server.start()
    yield server
    server.stop()


@pytest.fixture
def redis_client(redis_server):
    """A client of the session's Redis, emptied before and after the test."""
    import redis

    client = redis.Redis.from_url(redis_server.url)
    client.flushall()
    yield client
    client.flushall()


@pytest.fixture
def memory_dir():
    """A private directory on the host's memory filesystem, as a drill's work directory is."""
    import tempfile

    path = Path(tempfile.mkdtemp(prefix="rd-test-", dir="/dev/shm"))
    yield path
    shutil.rmtree(path, ignore_errors=True)


@pytest.fixture(scope="session")
def age_cli():
    require(shutil.which("age") is not None and shutil.which("age-keygen") is not None, "the age CLI")
    return shutil.which("age")


@pytest.fixture(scope="session")
def docker_engine():
    require(docker_ready(), "a running Docker engine")
    from drills.engines.postgres import DEFAULT_POSTGRES_IMAGE

    image = subprocess.run(["docker", "image", "inspect", DEFAULT_POSTGRES_IMAGE], capture_output=True)
    require(image.returncode == 0, f"the restore image {DEFAULT_POSTGRES_IMAGE}")
    from drills.runtimes.docker import DockerRuntime

    return DockerRuntime()


@pytest.fixture(autouse=True)
def host_left_clean(request):
    """After each integration test: no drill container, no new volume, no socket dir, no
    plaintext on disk."""
    started = time.time()
    volumes_before = docker_volumes() if "docker_engine" in request.fixturenames else set()
    yield
    if "docker_engine" not in request.fixturenames:
        return
    from drills.workdir import run_dir as drill_run_dir
    from drills.runtimes.docker import DRILL_LABEL

    leftovers = subprocess.run(["docker", "ps", "-a", "--filter", f"label={DRILL_LABEL}", "--format",
                                "{{.Names}} ({{.Status}})"], capture_output=True, text=True).stdout.splitlines()
    if leftovers:  # removed here, so that only the test that leaked one fails
        subprocess.run(["docker", "rm", "-fv", *[line.split()[0] for line in leftovers]], capture_output=True)
    assert leftovers == [], f"containers left behind: {leftovers}"
    assert docker_volumes() - volumes_before == set(), "volumes left behind"
    run_dir = drill_run_dir()
    assert not run_dir.exists() or list(run_dir.iterdir()) == [], f"socket directories left in {run_dir}"
    for path in files_changed_since(started, [Path("/tmp"), Path("/var/tmp"), Path("/dev/shm"), run_dir]):
        content = path.read_bytes()
        assert not any(marker in content for marker in PLAINTEXT_MARKERS), f"plaintext left in {path}"


PROJECT = Path(__file__).resolve().parents[1]


def docker_volumes() -> set[str]:
    return set(subprocess.run(["docker", "volume", "ls", "-q"], capture_output=True, text=True).stdout.split())


def files_changed_since(moment: float, roots: list[Path]):
    """Files changed since `moment` under `roots`, except the project's own tree (a clone in
    /tmp writes bytecode of modules that hold the markers as constants)."""
    for root in roots:
        if not root.exists():
            continue
        for directory, subdirectories, names in os.walk(root):
            subdirectories[:] = [name for name in subdirectories if Path(directory, name).resolve() != PROJECT
                                 and not os.path.ismount(os.path.join(directory, name))]  # e.g. a chroot's /proc
            for name in names:
                path = Path(directory) / name
                try:
                    if path.is_file() and not path.is_symlink() and path.stat().st_mtime >= moment - 1 \
                            and path.stat().st_size < 512 * 1024 * 1024:
                        yield path
                except OSError:
                    continue


def pytest_configure(config):
    leftovers.mark_session()


def pytest_sessionfinish(session, exitstatus):
    """No server a test started is left running (tests/leftovers.py); every evidence document
    the run left in its temporary directory matches its schema (docs/schemas, tests/schemas.py).
    Either failing fails the run."""
    running = leftovers.left_running()
    for pid, command in running.items():
        print(f"\nleftovers: {pid} still running after the session (killed): {command[:200]}")
    if running and session.exitstatus == 0:
        session.exitstatus = pytest.ExitCode.TESTS_FAILED
    factory = getattr(session.config, "_tmp_path_factory", None)
    basetemp = getattr(factory, "_basetemp", None)  # never made here: getbasetemp() would create it
    if basetemp is None or not basetemp.is_dir():
        return
    from tests.schemas import validate_tree

    skipped = []
    validated, errors = validate_tree(basetemp, skipped)
    reporter = session.config.pluginmanager.get_plugin("terminalreporter")
    write = reporter.write_line if reporter else print
    write("")  # after the progress line
    for error in errors[:50]:
        write(f"schemas: {basetemp}/{error}")
    if len(errors) > 50:
        write(f"schemas: ... and {len(errors) - 50} more errors")
    write(f"schemas: {validated} documents validated, {len(skipped)} skipped" +
          (f", {len(errors)} errors" if errors else ""))
    if errors and session.exitstatus == 0:
        session.exitstatus = pytest.ExitCode.TESTS_FAILED
