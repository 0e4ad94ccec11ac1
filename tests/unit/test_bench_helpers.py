"""The benchmarks' own arithmetic: the profile's shares, the line through time against size, the
memory a restore of a dump needs, the scans of the files benchmark."""

import pytest

from benchmarks import files
from benchmarks.backups import WAL_ROOM, Backup
from benchmarks.profile_drill import shares
from benchmarks.scale import linear_fit
from drills.checks.files import content_problem
from drills.demo.seed import GIB

MAIN = "_run_module_as_main (<frozen runpy>:198);<module> (drills/cli.py:470);Drill.run (drills/pipeline.py:113)"
READER = "Thread._bootstrap (threading.py:1002);read_ahead.<locals>.produce (drills/streams.py:117)"
FOLDED = "\n".join([
    f"{MAIN};restore (drills/engines/postgres.py:104);Thread._wait_for_tstate_lock (threading.py:1132) 80",
    f"{MAIN};restore (drills/engines/postgres.py:98);send_chunk (drills/runtimes/docker.py:171) 15",
    f"{MAIN};verify_database (drills/checks/database.py:40) 5",
    f"{READER};payload (drills/crypto/age.py:143) 7",
    f"{READER};read_ahead.<locals>.offer (drills/streams.py:109);Queue.put (queue.py:149) 90",
])


def test_the_profile_counts_the_main_thread_as_the_wall_time_and_the_reader_apart():
    total, inclusive, own, reading = shares(FOLDED)
    assert total == 100  # the reading thread's samples are not the drill's wall time
    assert inclusive["restore (drills/engines/postgres.py)"] == 95  # line numbers merged
    assert inclusive["Drill.run (drills/pipeline.py)"] == 100
    assert own["send_chunk (drills/runtimes/docker.py)"] == 15
    assert reading == 7  # busy decrypting; its 90 samples waiting on the hand-off are not work


def test_the_line_through_time_against_size_gives_the_fixed_cost_and_the_slope():
    runs = [{"mb": mb, "seconds": 2 + mb / 25} for mb in (100, 1000, 4000)]
    intercept, mb_per_second = linear_fit(runs)
    assert intercept == pytest.approx(2)
    assert mb_per_second == pytest.approx(25)


def test_a_restore_gets_room_for_its_database_its_staged_dump_and_its_wal(tmp_path):
    dump = tmp_path / "x.dump.age"
    with open(dump, "wb") as file:
        file.truncate(300 * 1024**2)
    needed = Backup(dump, tmp_path / "key", 1).memory_needed()
    assert needed % GIB == 0 and 900 * 1024**2 + WAL_ROOM <= needed < 900 * 1024**2 + WAL_ROOM + GIB


def test_the_scans_are_the_same_on_every_run_look_like_their_type_and_add_up_to_the_size_asked():
    first, again = list(files.scans(500, 20_000_000)), list(files.scans(500, 20_000_000))
    assert first == again and len({name for name, _ in first}) == 500
    assert all(content_problem(name, content[:65536]) is None for name, content in first)
    sizes = [len(content) for _, content in first]
    assert files.SMALLEST <= min(sizes) and max(sizes) <= files.LARGEST and max(sizes) > 20 * min(sizes)
    assert 18_000_000 < sum(sizes) < 22_000_000
    assert {name.rsplit(".", 1)[1] for name, _ in first} == {"pdf", "jpg", "tif"}
    assert files.parse_size("2 GB") == 2_000_000_000 and files.parse_size("100 MB") == 100_000_000


def test_the_profile_counts_a_drill_run_in_its_own_thread_not_the_main_thread_waiting_for_it():
    waiting = ("_run_module_as_main (<frozen runpy>:198);<module> (drills/cli.py:74);"
               "in_a_thread (drills/foreground.py:50);Thread._wait_for_tstate_lock (threading.py:1139)")
    drill = "Thread._bootstrap (threading.py:1002);in_a_thread.<locals>.work (drills/foreground.py:41);Drill.run (drills/pipeline.py:126)"
    total, inclusive, own, _ = shares("\n".join([
        f"{waiting} 100", f"{drill};restore (drills/engines/executor.py:35);DockerRuntime.run (drills/runtimes/docker.py:69) 70",
        f"{drill};verify_database (drills/checks/database.py:40) 25",
        "Thread._bootstrap (threading.py:1002);OutputCollector.run (drills/runtimes/docker.py:189) 90"]))
    assert total == 100  # the wall time: the main thread's samples
    assert inclusive["restore (drills/engines/executor.py)"] == 70 and inclusive["Drill.run (drills/pipeline.py)"] == 95
    assert "Thread._wait_for_tstate_lock (threading.py)" not in own and "OutputCollector.run (drills/runtimes/docker.py)" not in own
