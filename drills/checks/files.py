"""Checks of a restored documents tree (scans, letters, images): against the manifest's list of
files (size and sha256), for entries that escape the tree, and for signs of ransomware.

The tree is walked once, without ever following a link. Each file is checked as it is read: its
first bytes against its type, then its size and sha256 against the manifest's entry, which is
taken from the expected files (drills.expected_files: what is never taken is missing). Memory stays flat in the
number of files: each kind of problem is one finding with its exact count and its first EXAMPLES
examples, so ten thousand damaged files make one readable finding, not ten thousand.
"""

import hashlib
import math
import os
import stat
from bisect import insort
from dataclasses import dataclass, field
from pathlib import Path

from drills.checks.findings import FAIL, PASS, WARN, Finding, empty
from drills.expected_files import ExpectedFiles
from drills import reasons, redaction

EXAMPLES = 10
SAMPLE = 64 * 1024
BLOCK = 1024 * 1024
# Extensions and the bytes their files start with (a file renamed is fine; a .pdf that no
# longer starts like a PDF has been rewritten).
MAGIC = {
    ".pdf": (b"%PDF",), ".jpg": (b"\xff\xd8\xff",), ".jpeg": (b"\xff\xd8\xff",), ".png": (b"\x89PNG\r\n\x1a\n",),
    ".gif": (b"GIF87a", b"GIF89a"), ".tif": (b"II*\x00", b"MM\x00*"), ".tiff": (b"II*\x00", b"MM\x00*"),
    ".docx": (b"PK\x03\x04",), ".xlsx": (b"PK\x03\x04",), ".pptx": (b"PK\x03\x04",), ".odt": (b"PK\x03\x04",),
    ".ods": (b"PK\x03\x04",), ".zip": (b"PK\x03\x04",), ".doc": (b"\xd0\xcf\x11\xe0",), ".xls": (b"\xd0\xcf\x11\xe0",),
    ".rtf": (b"{\\rtf",), ".dcm": (),  # DICOM: the magic is at offset 128, checked apart
}
KNOWN_STARTS = tuple(magic for magics in MAGIC.values() for magic in magics)
ENCRYPTED_ENTROPY = 7.95  # bits per byte of a 64 KiB sample: encrypted or random data
TEXT_EXTENSIONS = (".txt", ".csv", ".xml", ".html", ".htm", ".json", ".hl7", ".ini", ".log")


@dataclass
class Problems:
    """One kind of problem: how many, and the EXAMPLES first of them in the order of their keys
    (the order they were seen in, unless a key is given)."""
    count: int = 0
    examples: list = field(default_factory=list)  # [(key, text)], at most EXAMPLES

    def add(self, text: str, key=None) -> None:
        self.count += 1
        if len(self.examples) < EXAMPLES or (key is not None and key < self.examples[-1][0]):
            insort(self.examples, (self.count if key is None else key, text))
            del self.examples[EXAMPLES:]


@dataclass
class Tally:
    """The restored files counted, and compared with the manifest's as they are found."""
    expected: ExpectedFiles | None  # the manifest's files: each taken as the walk finds it
    files: int = 0
    bytes: int = 0
    altered: Problems = field(default_factory=Problems)
    unexpected: Problems = field(default_factory=Problems)

    def found(self, path: str, size: int, sha256: bytes) -> None:
        self.files, self.bytes = self.files + 1, self.bytes + size
        if self.expected is None:
            return
        entry = self.expected.take(path)
        if entry is None:
            self.unexpected.add(path, path)
        elif size != entry.size:
            self.altered.add(f"{path} (size {size:,}, expected {entry.size:,})", path)
        elif sha256 != entry.sha256:
            self.altered.add(f"{path} (sha256 differs)", path)


def entropy(data: bytes) -> float:
    if not data:
        return 0.0
    counts = [0] * 256
    for byte in data:
        counts[byte] += 1
    return -sum(count / len(data) * math.log2(count / len(data)) for count in counts if count)


def content_problem(name: str, head: bytes) -> str | None:
    """Why a file's first bytes do not fit its name, or None."""
    extension = os.path.splitext(name)[1].lower()  # not pathlib's: it interns every name it parses
    if extension == ".dcm":
        return None if head[128:132] == b"DICM" else "a .dcm file without the DICM marker"
    if extension in MAGIC and not head.startswith(MAGIC[extension]):
        return f"a {extension} file that does not start like one"
    if extension in TEXT_EXTENSIONS or (len(head) >= 4096 and not head.startswith(KNOWN_STARTS)):
        bits = entropy(head)
        if bits > ENCRYPTED_ENTROPY:
            return (f"a {extension} file whose bytes look encrypted" if extension in TEXT_EXTENSIONS
                    else "no known format and bytes that look encrypted") + f" (entropy {bits:.2f} bits/byte)"
    return None


def entries(root: str):
    """(path relative to root, its os.DirEntry) of every entry of the tree but directories, the
    links among them; links are never followed, unreadable directories skipped (as os.walk does)."""
    pending = [""]
    while pending:
        prefix = pending.pop()
        try:
            listing = os.scandir(os.path.join(root, prefix))
        except OSError:
            continue
        with listing:
            for entry in listing:
                relative = prefix + entry.name
                if entry.is_dir(follow_symlinks=False):
                    pending.append(relative + "/")
                else:
                    yield relative, entry


def read(path: str, buffer: bytearray) -> tuple[int, bytes, bytes]:
    """(size, sha256, first SAMPLE bytes) of the regular file at `path`, read once into `buffer`."""
    view, digest, size, head = memoryview(buffer), hashlib.sha256(), 0, b""
    with open(os.open(path, os.O_RDONLY | os.O_NOFOLLOW), "rb", buffering=0) as handle:
        while count := handle.readinto(buffer):
            head = head if size else bytes(view[:min(count, SAMPLE)])
            digest.update(view[:count])
            size += count
    return size, digest.digest(), head


def walk(root: Path, unsafe: Problems, suspects: Problems, tally: Tally) -> None:
    """Every entry under `root`, once: a link escaping the tree or an entry neither file, directory
    nor link (device, pipe, socket) is `unsafe`; a regular file is read, its first bytes checked
    against its name (`suspects`) then dropped, its size and sha256 handed to `tally`."""
    buffer, top = bytearray(BLOCK), str(root)
    for relative, entry in entries(top):
        if entry.is_symlink():
            link = os.readlink(entry.path)
            target = os.path.normpath(os.path.join(os.path.dirname(entry.path), link))
            if not (target + os.sep).startswith(top + os.sep):
                unsafe.add(f"link out of the tree: {relative} -> {link}")
        elif not entry.is_file(follow_symlinks=False):
            unsafe.add(f"not a regular file: {relative} ({kind_of(entry.stat(follow_symlinks=False).st_mode)})")
        else:
            size, sha256, head = read(entry.path, buffer)
            if why := content_problem(relative, head):
                suspects.add(f"{relative} ({why})", relative)
            tally.found(relative, size, sha256)


def printable(name: str) -> str:
    """A file name as a report can carry it: bytes that are not UTF-8 escaped, then as any name read
    from a backup (redaction.printable: control characters replaced, length capped)."""
    return redaction.printable(name.encode("utf-8", "backslashreplace").decode("utf-8"), limit=300)


def kind_of(mode: int) -> str:
    return ("character device" if stat.S_ISCHR(mode) else "block device" if stat.S_ISBLK(mode)
            else "named pipe" if stat.S_ISFIFO(mode) else "socket" if stat.S_ISSOCK(mode) else "special file")


def summary(check: str, code: str, problems: Problems, message: str, hint: str, status: str = FAIL) -> Finding:
    shown = "; ".join(printable(text) for _, text in problems.examples)
    more = f"; and {problems.count - EXAMPLES} more" if problems.count > EXAMPLES else ""
    return Finding(check, f"{problems.count} file(s)", status, actual=problems.count,
                   message=f"{message}: {shown}{more}", code=code if status == FAIL else "", hint=hint)


def tree_findings(root: Path, expected: ExpectedFiles | None, refused: list[str],
                  may_be_empty: bool = False) -> list[Finding]:
    """Every finding about the restored tree at `root`; `refused` are the archive's entries the
    extraction refused (escaping paths, devices). `expected`, the manifest's files, are taken as
    they are found. No file at all fails unless `may_be_empty`."""
    unsafe, suspects = Problems(), Problems()
    for entry in refused:
        unsafe.add(entry)
    tally = Tally(expected)
    walk(root, unsafe, suspects, tally)
    findings = [] if tally.files or may_be_empty else [empty("tree", "file")]
    if unsafe.count:
        findings.append(summary("archive.safety", reasons.VERIFY_UNSAFE_ARCHIVE, unsafe,
                                "the archive holds entries that escape the restore root or are not plain files",
                                "a hostile or broken archive: nothing was written outside the restore root; "
                                "check the backup job's tar command"))
    if expected is not None:
        findings += manifest_findings(tally)
    if suspects.count:
        findings.append(summary("files.content", reasons.VERIFY_RANSOMWARE_SUSPECT, suspects,
                                "files whose content no longer matches their type, or looks encrypted",
                                "signs of ransomware on the site: isolate it and check these files before "
                                "trusting older backups"))
    return findings


def manifest_findings(tally: Tally) -> list[Finding]:
    """The findings of a walk against the manifest; what `tally.expected` still holds is missing."""
    count, first = tally.expected.missing(EXAMPLES)
    missing = Problems(count, [(path, path) for path in first])
    findings = []
    if missing.count:
        findings.append(summary("files.present", reasons.VERIFY_FILE_MISSING, missing,
                                "files of the manifest not restored",
                                "the backup lacks documents the site had: check the backup job's scope"))
    if tally.altered.count:
        findings.append(summary("files.content", reasons.VERIFY_FILE_ALTERED, tally.altered,
                                "files whose size or sha256 differ from the manifest",
                                "the documents changed after the manifest was written, or were damaged"))
    findings.append(Finding("files.total", "tree", PASS if not missing.count and not tally.altered.count else WARN,
                            expected={"files": tally.expected.count, "bytes": tally.expected.bytes},
                            actual={"files": tally.files, "bytes": tally.bytes}))
    if tally.unexpected.count:
        findings.append(summary("files.unexpected", "", tally.unexpected, "files restored but not in the manifest",
                                "", WARN))
    return findings
