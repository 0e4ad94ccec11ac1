"""What a physical restore recovered to, as the report says it (`recovery`): the set restored (a
pgBackRest set, or a pg_basebackup tar and the archived WAL handed on with it), the target asked
(`latest` or a time), and the end point the promoted server read back (the last record replayed,
the last transaction's time: the point in time the backup gives back, its RPO)."""

from datetime import datetime


def described(facts: dict, backup, target: datetime | None) -> dict | None:
    """The report's `recovery`, or None for a backup that is not physical."""
    physical = getattr(backup, "physical", None)
    if physical is None:
        return None
    end = facts.get("recovery") or {}
    return {"set": backup.name, "kind": physical.kind, "lsn_start": physical.lsn_start, "lsn_stop": physical.lsn_stop,
            "target": target.isoformat() if target else "latest",
            "end_lsn": end.get("end_lsn"), "end_time": end.get("end_time"), "timeline": end.get("timeline"),
            "amcheck": facts.get("amcheck"), **({"wal": physical.wal} if getattr(physical, "wal", None) else {})}


def data_time(recovery: dict | None, backup) -> datetime | None:
    """When the restored data was taken: where a physical recovery ended, never newer than the storage
    received the newest file it read (a commit time forged in the WAL cannot make a backup look fresher
    than its files); else the backup's time at the source. None without a backup."""
    if backup is None:
        return None
    end = end_time(recovery)
    stored = max(time for time in (backup.modified, getattr(getattr(backup, "physical", None), "stored_until", None))
                 if time)
    return min(end, stored) if end else backup.modified


def end_time(recovery: dict | None) -> datetime | None:
    """The recovery's end point as a time (the newest data the backup gave back), if it was read."""
    text = (recovery or {}).get("end_time")
    return datetime.fromisoformat(text.replace("Z", "+00:00")) if text else None
