"""The one progress signature: ``progress(fraction, message)``, clamped, or nothing at all."""

from __future__ import annotations

from data_access.progress import reporter


def test_reporter_clamps_and_passes_the_message():
    seen = []
    say = reporter(lambda fraction, message: seen.append((fraction, message)))
    say(-0.5, "开始")
    say(0.25, "读取")
    say(1.5, "完成")
    assert seen == [(0.0, "开始"), (0.25, "读取"), (1.0, "完成")]


def test_reporter_of_none_does_nothing():
    assert reporter(None)(0.5, "无人在听") is None
