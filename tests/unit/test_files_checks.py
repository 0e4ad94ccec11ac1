"""The files engine's checks of a restored tree (drills.checks.files), on real trees written by the
test: the manifest compared as the walk goes, exact counts with the first examples in path order,
entries escaping the tree, signs of ransomware, and memory flat in the number of files."""

import hashlib
import json
import os
import shutil
import subprocess
import sys
import tempfile
from datetime import datetime, timezone
from pathlib import Path

import pytest

from drills import manifest
from drills.checks.files import BLOCK, tree_findings
from drills.errors import BackupProblem
from drills.expected_files import ExpectedFiles, FileEntry

PDF = b"%PDF-1.4 ordonnance"


def write(root: Path, files: dict[str, bytes]) -> ExpectedFiles:
    """The files under root, and their manifest entries."""
    for name, data in files.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_bytes(data)
    return ExpectedFiles.stored((name, FileEntry(len(data), hashlib.sha256(data).digest()))
                                for name, data in files.items())


def by_code(findings) -> dict:
    return {finding.code or finding.check: finding for finding in findings}


def test_a_tree_matching_its_manifest_passes_with_its_totals(tmp_path):
    big = b"%PDF" + os.urandom(BLOCK * 2 + 5)  # read in several blocks
    expected = write(tmp_path, {"scans/a.pdf": PDF, "scans/big.pdf": big, "notes.txt": b"bonjour\n"})
    findings = tree_findings(tmp_path, expected, [])
    (total,) = findings
    assert (total.check, total.status) == ("files.total", "pass")
    assert total.actual == total.expected == {"files": 3, "bytes": len(PDF) + len(big) + 8}


def test_missing_altered_and_unexpected_files_are_counted_exactly_with_the_first_examples_in_path_order(tmp_path):
    names = [f"scans/{number:03d}.pdf" for number in range(25)]
    expected = write(tmp_path, {name: PDF for name in names})
    for name in names[::-1][:12]:  # the last 12, removed in reverse order
        (tmp_path / name).unlink()
    (tmp_path / names[3]).write_bytes(PDF + b"!")
    (tmp_path / names[4]).write_bytes(PDF.replace(b"1.4", b"1.7"))
    write(tmp_path, {f"extra/{number:02d}.pdf": PDF for number in range(11, -1, -1)})
    findings = by_code(tree_findings(tmp_path, expected, []))
    missing, altered = findings["verify.file_missing"], findings["verify.file_altered"]
    assert missing.actual == 12 and missing.subject == "12 file(s)"
    assert missing.message.endswith("scans/013.pdf; scans/014.pdf; " + "; ".join(names[15:21]) + "; "
                                    + "; ".join(names[21:23]) + "; and 2 more")
    assert altered.actual == 2
    assert altered.message.endswith(f"scans/003.pdf (size {len(PDF) + 1:,}, expected {len(PDF):,}); "
                                    "scans/004.pdf (sha256 differs)")
    unexpected = findings["files.unexpected"]
    assert (unexpected.status, unexpected.actual) == ("warn", 12)
    assert "extra/00.pdf; extra/01.pdf" in unexpected.message and "extra/10.pdf" not in unexpected.message
    total = findings["files.total"]
    assert total.status == "warn" and total.actual["files"] == 25 - 12 + 12
    assert total.expected == {"files": 25, "bytes": 25 * len(PDF)}


def test_links_out_of_the_tree_and_special_files_are_unsafe_after_what_tar_refused(tmp_path):
    write(tmp_path, {"scans/a.pdf": PDF})
    (tmp_path / "scans" / "passwd").symlink_to("/etc/passwd")
    (tmp_path / "scans" / "up").symlink_to("../../outside")
    (tmp_path / "scans" / "inside").symlink_to("a.pdf")
    (tmp_path / "scans" / "folder").symlink_to("/etc")
    os.mkfifo(tmp_path / "pipe")
    refused = [f"../escape-{number}.txt: Member name contains '..'" for number in range(8)]
    (unsafe,) = [f for f in tree_findings(tmp_path, None, refused) if f.code == "verify.unsafe_archive"]
    assert unsafe.actual == 12
    assert unsafe.message.split(": ", 1)[1].startswith("; ".join(refused))
    assert "; and 2 more" in unsafe.message and "inside" not in unsafe.message


def test_files_whose_bytes_no_longer_fit_their_type_are_ransomware_suspects(tmp_path):
    expected = write(tmp_path, {"scans/a.pdf": os.urandom(3000), "notes.txt": os.urandom(SIXTY_FOUR_KIB),
                                "blob": os.urandom(5000), "images/b.jpg": b"\xff\xd8\xff" + os.urandom(5000),
                                "irm.dcm": bytes(128) + b"DICM", "vide.dcm": b"x" * 200, "small": os.urandom(100)})
    findings = by_code(tree_findings(tmp_path, expected, []))
    suspects = findings["verify.ransomware_suspect"]
    assert suspects.actual == 4
    shown = suspects.message.split(": ", 1)[1].split("; ")
    assert [example.split(" (")[0] for example in shown] == ["blob", "notes.txt", "scans/a.pdf", "vide.dcm"]
    assert "a .pdf file that does not start like one" in suspects.message
    assert "a .txt file whose bytes look encrypted (entropy " in suspects.message
    assert findings["files.total"].status == "pass"


SIXTY_FOUR_KIB = 64 * 1024


def test_an_empty_tree_fails_unless_the_site_may_be_empty(tmp_path):
    assert [f.code for f in tree_findings(tmp_path, None, [])] == ["verify.empty"]
    assert tree_findings(tmp_path, None, [], may_be_empty=True) == []


# A drill's reading of a local manifest then its check of the tree, in a process of its own: its
# peak RSS, whatever SQLite or the parser allocate (tracemalloc sees neither SQLite's nor the C parser's).
# VmHWM, not ru_maxrss: Linux carries the forking process's peak over an exec into ru_maxrss.
DRILL_OF_TREE = """
import re, sys
from pathlib import Path
from drills import manifest
from drills.checks.files import tree_findings
from drills.sources import local
root, backup, work = (Path(argument) for argument in sys.argv[1:])
found, _ = manifest.find(local.describe(backup), [], work)
findings = tree_findings(root, found.files, [])
print(*(finding.status for finding in findings), findings[0].actual["files"],
      re.search(r"VmHWM:\\s+(\\d+) kB", Path("/proc/self/status").read_text()).group(1))
"""


def peak_of_drill(files: int) -> int:
    """The peak RSS (KiB) of a process reading the manifest of `files` small files (spooled into a
    work directory, as a drill does) then checking their tree, both on a memory filesystem."""
    place = Path(tempfile.mkdtemp(prefix="files-memory-", dir="/dev/shm" if os.path.isdir("/dev/shm") else None))
    try:
        root, listed = place / "root", {}
        for number in range(files):
            folder = root / f"{number // 1000:03d}"
            if number % 1000 == 0:
                folder.mkdir(parents=True)
            data = b"%PDF-1.4 " + str(number).encode() * 20
            (folder / f"scan-{number:06d}.pdf").write_bytes(data)
            listed[f"{folder.name}/scan-{number:06d}.pdf"] = {"size": len(data),
                                                              "sha256": hashlib.sha256(data).hexdigest()}
        (place / "scans.tar").touch()
        (place / "scans.tar.manifest.json").write_text(
            manifest.render("cabinet", "files", datetime.now(timezone.utc), files=listed))
        del listed
        answer = subprocess.run([sys.executable, "-c", DRILL_OF_TREE, str(root), str(place / "scans.tar"),
                                 str(place / "work")], capture_output=True, text=True, check=True).stdout.split()
        assert answer[:2] == ["pass", str(files)], answer
        assert sorted(path.name for path in (place / "work").iterdir()) == ["manifest.sqlite"]  # the spool is gone
        return int(answer[2])
    finally:
        shutil.rmtree(place)


@pytest.mark.parametrize("small, large", [(2_000, 40_000)])
def test_a_drill_of_twenty_times_the_files_reads_their_manifest_and_tree_in_no_more_memory(small, large):
    smaller, larger = peak_of_drill(small), peak_of_drill(large)
    assert larger <= smaller * 1.1, f"peak RSS {smaller:,} KiB for {small:,} files, {larger:,} KiB for {large:,}"


def test_the_manifest_keeps_each_file_as_its_size_and_digest_and_refuses_a_bad_entry():
    digest = "ab" * 32
    text = manifest.render("cabinet", "files", datetime.now(timezone.utc),
                           files={"a.pdf": {"size": 3, "sha256": digest}})
    assert list(manifest.parse(text.encode()).files.items()) == [("a.pdf", FileEntry(3, bytes.fromhex(digest)))]
    for entry in ({"size": -1, "sha256": digest}, {"size": 3, "sha256": digest.upper()}, {"size": 3}, [3, digest]):
        with pytest.raises(BackupProblem, match="files must map paths to"):
            manifest.parse(text.replace(f'{{\n      "size": 3,\n      "sha256": "{digest}"\n    }}',
                                        json.dumps(entry)).encode())
