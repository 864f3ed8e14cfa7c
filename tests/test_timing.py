import time

import pytest

from utils import timing


def test_timer_measures_wall_and_cpu_seconds():
    with timing.Timer() as timer:
        time.sleep(0.01)
    assert timer.seconds >= 0.01 and 0 <= timer.cpu_seconds < timer.seconds


def test_best_seconds_takes_the_minimum_after_a_warm_up():
    calls = []
    durations = iter([0.2, 0.03, 0.01, 0.02])  # the first call is the warm-up and is not counted

    def sleeper():
        calls.append(1)
        time.sleep(next(durations))

    wall, cpu = timing.best_seconds(sleeper, repeats=3)
    assert len(calls) == 4
    assert 0.01 <= wall < 0.02  # the shortest counted call, not the 0.2 s warm-up
    assert 0 <= cpu < 0.01  # sleeping uses no CPU

    def spin():
        end = time.process_time() + 0.02
        while time.process_time() < end:
            pass

    wall, cpu = timing.best_seconds(spin, repeats=2)
    assert cpu >= 0.02 and wall >= 0.015
    with pytest.raises(ValueError, match="repeats"):
        timing.best_seconds(spin, repeats=0)


def test_each_times_every_call_after_an_untimed_first_call():
    calls = []

    def slow_first(image, name):
        calls.append(name)
        time.sleep(0.2 if len(calls) == 1 else 0.01)  # the first call stands for tracing
        return name.upper()

    results, seconds = timing.each(slow_first, [1, 2, 3], ["a", "b", "c"])
    assert results == ["A", "B", "C"] and calls == ["a", "a", "b", "c"]
    assert seconds.shape == (3,) and seconds.max() < 0.15
    results, seconds = timing.each(slow_first, [], [])   # no items: nothing is called
    assert results == [] and seconds.shape == (0,) and len(calls) == 4
    with pytest.raises(ValueError):   # one iterable shorter than the other is refused, not cut short
        timing.each(slow_first, [1, 2], ["a"])
