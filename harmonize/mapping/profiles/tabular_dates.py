"""Dates in a ``tabular`` submission turned into ages, from the row's date of birth.

With ``date_of_birth: {column: dob}`` in the mapping, every time column of the row (age at
last encounter, onsets, resolutions, measurement times) whose cell is a date (a visit
date, ``2019-03-14``) becomes the individual's age on that date, as an ISO 8601 duration
(``P45Y3M12D``, counted in calendar years, months and days with ``dateutil``). The date of
birth itself is not published. A date of birth that is not a date, or a date before the
birth, is an error at its cell; without a date of birth a date stays a timestamp.

>>> from datetime import date
>>> age_on(date(1980, 1, 15), date(2025, 4, 27))
'P45Y3M12D'
>>> age_on(date(2020, 1, 31), date(2020, 2, 20)), age_on(date(2020, 1, 1), date(2020, 1, 1))
('P20D', 'P0D')
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

import numpy as np
import pyarrow as pa
from dateutil.relativedelta import relativedelta

from harmonize.mapping import times
from harmonize.quality.collect import FindingCollector
from harmonize.readers.base import SourceBatch

VALIDATOR = "profile:tabular"


def age_on(birth: date, day: date) -> str:
    """The ISO 8601 age on ``day`` of someone born on ``birth`` (``day`` not before it)."""
    delta = relativedelta(day, birth)
    parts = [(delta.years, "Y"), (delta.months, "M"), (delta.days, "D")]
    text = "".join(f"{n}{unit}" for n, unit in parts if n)
    return f"P{text or '0D'}"


def births(
    raw: pa.Array, batch: SourceBatch, column: str, findings: FindingCollector
) -> list[date | None]:
    """Each row's date of birth (``None`` where empty or not a date, which is an error)."""
    out: list[date | None] = []
    for i, value in enumerate(raw.to_pylist()):
        if value is None:
            out.append(None)
            continue
        try:
            out.append(date.fromisoformat(str(value).strip()[:10]))
        except ValueError:
            out.append(None)
            findings.add(
                "error",
                "malformed-date",
                f"date of birth {value!r} is not a date",
                VALIDATOR,
                hint="write the date as YYYY-MM-DD, for example 1980-01-31",
                file=batch.file,
                sheet=batch.sheet,
                row=batch.rows[i].as_py(),
                column=column,
                value=str(value),
            )
    return out


def dates_to_ages(
    stem: str,
    parts: dict[str, pa.Array],
    born: list[date | None],
    batch: SourceBatch,
    column: str,
    findings: FindingCollector,
) -> dict[str, pa.Array]:
    """``parts`` (a time's columns) with each date turned into an age where the row has a
    date of birth; a date before the birth is an error, and no time."""
    stamp_col, age_col = times.column(stem, "timestamp"), times.column(stem, "age")
    stamps = parts[stamp_col]
    if stamps.null_count == len(stamps):
        return parts
    new_stamps: list[datetime | None] = stamps.to_pylist()
    ages: list[Any] = parts[age_col].to_pylist()
    for i in np.flatnonzero(~np.asarray(stamps.is_null())).tolist():
        birth, stamp = born[i], new_stamps[i]
        if birth is None or stamp is None:
            continue
        day = stamp.date()
        new_stamps[i] = None
        if day < birth:
            findings.add(
                "error",
                "date-before-birth",
                f"{column} {day.isoformat()} is before the date of birth {birth.isoformat()}",
                VALIDATOR,
                hint="check both dates",
                file=batch.file,
                sheet=batch.sheet,
                row=batch.rows[i].as_py(),
                column=column,
                value=day.isoformat(),
            )
            continue
        ages[i] = age_on(birth, day)
    return {
        **parts,
        stamp_col: pa.array(new_stamps, stamps.type),
        age_col: pa.array(ages, pa.string()),
    }
