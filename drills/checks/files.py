"""Checks of a restored documents tree (scans, letters, images): against the manifest's list of
files (size and sha256), for entries that escape the tree, and for signs of ransomware.

The tree is walked without ever following a link. Each kind of problem is one finding with a
count and examples, so ten thousand damaged files make one readable finding, not ten thousand.
"""

import hashlib
import math
import os
import stat
from pathlib import Path, PurePosixPath

from drills.checks.findings import FAIL, PASS, WARN, Finding, empty
from drills import reasons

EXAMPLES = 10
SAMPLE = 64 * 1024
# Extensions and the bytes their files start with (a file renamed is fine; a .pdf that no
# longer starts like a PDF has been rewritten).
MAGIC = {
    ".pdf": (b"%PDF",), ".jpg": (b"\xff\xd8\xff",), ".jpeg": (b"\xff\xd8\xff",), ".png": (b"\x89PNG\r\n\x1a\n",),
    ".gif": (b"GIF87a", b"GIF89a"), ".tif": (b"II*\x00", b"MM\x00*"), ".tiff": (b"II*\x00", b"MM\x00*"),
    ".docx": (b"PK\x03\x04",), ".xlsx": (b"PK\x03\x04",), ".pptx": (b"PK\x03\x04",), ".odt": (b"PK\x03\x04",),
    ".ods": (b"PK\x03\x04",), ".zip": (b"PK\x03\x04",), ".doc": (b"\xd0\xcf\x11\xe0",), ".xls": (b"\xd0\xcf\x11\xe0",),
    ".rtf": (b"{\\rtf",), ".dcm": (),  # DICOM: the magic is at offset 128, checked apart
}
ENCRYPTED_ENTROPY = 7.95  # bits per byte of a 64 KiB sample: encrypted or random data
TEXT_EXTENSIONS = (".txt", ".csv", ".xml", ".html", ".htm", ".json", ".hl7", ".ini", ".log")


def entropy(data: bytes) -> float:
    if not data:
        return 0.0
    counts = [0] * 256
    for byte in data:
        counts[byte] += 1
    return -sum(count / len(data) * math.log2(count / len(data)) for count in counts if count)


def content_problem(name: str, head: bytes) -> str | None:
    """Why a file's first bytes do not fit its name, or None."""
    extension = PurePosixPath(name).suffix.lower()
    if extension == ".dcm":
        return None if head[128:132] == b"DICM" else "a .dcm file without the DICM marker"
    if extension in MAGIC and not head.startswith(MAGIC[extension]):
        return f"a {extension} file that does not start like one"
    if extension in TEXT_EXTENSIONS and entropy(head) > ENCRYPTED_ENTROPY:
        return f"a {extension} file whose bytes look encrypted (entropy {entropy(head):.2f} bits/byte)"
    if not head.startswith(tuple(magic for magics in MAGIC.values() for magic in magics)) and \
            len(head) >= 4096 and entropy(head) > ENCRYPTED_ENTROPY:
        return f"no known format and bytes that look encrypted (entropy {entropy(head):.2f} bits/byte)"
    return None


def walk(root: Path) -> tuple[dict[str, tuple[int, str, bytes]], list[str]]:
    """({relative path: (size, sha256, first bytes)} of regular files, [entries that are links
    escaping the tree, or neither files nor directories nor links: devices, pipes, sockets])."""
    files, escaping = {}, []
    for directory, subdirectories, names in os.walk(root, followlinks=False):
        for name in names + [d for d in subdirectories if os.path.islink(os.path.join(directory, d))]:
            path = Path(directory) / name
            relative = path.relative_to(root).as_posix()
            if path.is_symlink():
                target = os.path.normpath(os.path.join(directory, os.readlink(path)))
                if not (target + os.sep).startswith(str(root) + os.sep):
                    escaping.append(f"link out of the tree: {relative} -> {os.readlink(path)}")
            elif not stat.S_ISREG(path.lstat().st_mode):
                escaping.append(f"not a regular file: {relative} ({kind_of(path.lstat().st_mode)})")
            else:
                digest, head = hashlib.sha256(), b""
                with open(path, "rb") as handle:
                    while block := handle.read(1024 * 1024):
                        head = head or block[:SAMPLE]
                        digest.update(block)
                files[relative] = (path.stat().st_size, digest.hexdigest(), head)
    return files, escaping


def printable(name: str) -> str:
    """A file name as a report can carry it (names that are not UTF-8 keep their bytes escaped)."""
    return name.encode("utf-8", "backslashreplace").decode("utf-8")


def kind_of(mode: int) -> str:
    return ("character device" if stat.S_ISCHR(mode) else "block device" if stat.S_ISBLK(mode)
            else "named pipe" if stat.S_ISFIFO(mode) else "socket" if stat.S_ISSOCK(mode) else "special file")


def summary(check: str, code: str, problems: list[str], message: str, hint: str, status: str = FAIL) -> Finding:
    shown = "; ".join(printable(problem) for problem in problems[:EXAMPLES]) + (f"; and {len(problems) - EXAMPLES} more" if len(problems) > EXAMPLES else "")
    return Finding(check, f"{len(problems)} file(s)", status, actual=len(problems), message=f"{message}: {shown}",
                   code=code if status == FAIL else "", hint=hint)


def tree_findings(root: Path, expected: dict[str, dict] | None, refused: list[str],
                  may_be_empty: bool = False) -> list[Finding]:
    """Every finding about the restored tree at `root`; `refused` are the archive's entries the
    extraction refused (escaping paths, devices). No file at all fails unless `may_be_empty`."""
    files, escaping = walk(root)
    findings = [] if files or may_be_empty else [empty("tree", "file")]
    unsafe = refused + escaping
    if unsafe:
        findings.append(summary("archive.safety", reasons.VERIFY_UNSAFE_ARCHIVE, unsafe,
                                "the archive holds entries that escape the restore root or are not plain files",
                                "a hostile or broken archive: nothing was written outside the restore root; "
                                "check the backup job's tar command"))
    if expected is not None:
        findings += manifest_findings(files, expected)
    suspects = [f"{path} ({why})" for path, (_, _, head) in sorted(files.items())
                if (why := content_problem(path, head))]
    if suspects:
        findings.append(summary("files.content", reasons.VERIFY_RANSOMWARE_SUSPECT, suspects,
                                "files whose content no longer matches their type, or looks encrypted",
                                "signs of ransomware on the site: isolate it and check these files before "
                                "trusting older backups"))
    return findings


def manifest_findings(files: dict[str, tuple[int, str, bytes]], expected: dict[str, dict]) -> list[Finding]:
    missing = [path for path in sorted(expected) if path not in files]
    altered = [f"{path} (size {files[path][0]:,}, expected {entry['size']:,})" if files[path][0] != entry["size"]
               else f"{path} (sha256 differs)" for path, entry in sorted(expected.items())
               if path in files and (files[path][0], files[path][1]) != (entry["size"], entry["sha256"])]
    findings = []
    if missing:
        findings.append(summary("files.present", reasons.VERIFY_FILE_MISSING, missing,
                                "files of the manifest not restored",
                                "the backup lacks documents the site had: check the backup job's scope"))
    if altered:
        findings.append(summary("files.content", reasons.VERIFY_FILE_ALTERED, altered,
                                "files whose size or sha256 differ from the manifest",
                                "the documents changed after the manifest was written, or were damaged"))
    count, total = len(files), sum(size for size, _, _ in files.values())
    expected_total = sum(entry["size"] for entry in expected.values())
    extra = sorted(set(files) - set(expected))
    findings.append(Finding("files.total", "tree", PASS if not missing and not altered else WARN,
                            expected={"files": len(expected), "bytes": expected_total},
                            actual={"files": count, "bytes": total}))
    if extra:
        findings.append(summary("files.unexpected", "", extra, "files restored but not in the manifest", "", WARN))
    return findings
