from __future__ import annotations

import threading
import time

from trayscan.pipeline.budget import PixelBudget


def test_holders_over_the_budget_wait_their_turn() -> None:
    budget = PixelBudget(100)
    active, most = 0, 0
    lock = threading.Lock()

    def work(pixels: int) -> None:
        nonlocal active, most
        with budget.hold(pixels):
            with lock:
                active += 1
                most = max(most, active)
            time.sleep(0.02)
            with lock:
                active -= 1

    threads = [threading.Thread(target=work, args=(60,)) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(5)
    assert most == 1  # 60 + 60 > 100: one at a time
    assert budget.in_use == 0


def test_small_holders_share_and_one_larger_than_the_budget_runs_alone() -> None:
    budget = PixelBudget(100)
    with budget.hold(30), budget.hold(30), budget.hold(40):
        assert budget.in_use == 100
    with budget.hold(500):  # larger than the whole budget: allowed when nothing else holds any
        assert budget.in_use == 500
    assert budget.in_use == 0
