"""What `silentpartner doctor` reports: one finding per thing checked. Its own module so the checks each
package contributes (e.g. `calendar/calcom_doctor.py`) and the doctor that runs them both import it,
and neither imports the other back."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal


@dataclass(frozen=True)
class Finding:
    level: Literal["ok", "warn", "fail"]
    subject: str
    message: str
