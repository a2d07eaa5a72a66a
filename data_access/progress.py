"""The one progress-callback signature: ``progress(fraction, message)``.

``fraction`` runs from 0.0 to 1.0, ``message`` is the Chinese line to show beside it (the demo
generator, the importer and the exports all call it this way; the app hands it to ``st.progress``,
the CLI prints it).
"""

from __future__ import annotations

from typing import Callable

Progress = Callable[[float, str], None]


def _silent(fraction: float, message: str) -> None:
    return None


def reporter(progress: Progress | None) -> Progress:
    """``progress`` with its fraction clamped to [0, 1]; a callback that does nothing when None."""
    if progress is None:
        return _silent

    def report(fraction: float, message: str) -> None:
        progress(min(1.0, max(0.0, fraction)), message)

    return report
