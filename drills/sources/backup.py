"""The newest backup of a site, as every source describes it."""

from dataclasses import dataclass
from datetime import datetime
from typing import BinaryIO, Callable


@dataclass(frozen=True)
class Backup:
    name: str
    size: int
    modified: datetime
    open: Callable[[], BinaryIO]
    open_sibling: Callable[[str], BinaryIO | None]  # a sibling object (the manifest) by suffix, as `open`
