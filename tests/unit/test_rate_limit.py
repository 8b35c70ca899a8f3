from roleguard.gateways.securityhub import BURST, RATE_PER_SECOND, TokenBucket


class Clock:
    def __init__(self):
        self.now = 0.0
        self.slept = []

    def sleep(self, seconds):
        self.slept.append(seconds)
        self.now += seconds


def test_burst_then_ten_per_second():
    clock = Clock()
    bucket = TokenBucket(clock=lambda: clock.now, sleep=clock.sleep)
    for _ in range(BURST):
        bucket.take()
    assert clock.slept == []  # the documented burst of 30 goes through at once
    for _ in range(20):
        bucket.take()
    assert abs(clock.now - 20 / RATE_PER_SECOND) < 1e-6  # then 10 per second
