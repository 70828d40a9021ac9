"""Issue 9: 1,000 followers of one strategy signal, at 50 ms simulated exchange latency.

Targets (strategies.md "Scale"):
- every follower's order is placed within 30 s of the signal;
- within the exchange's request-weight budget: the peak used weight the simulator saw on any caller IP stays
  under its configured limit (Binance's 2,400 a minute on USD-M), and no request is answered 429/418;
- at least 40x faster than placing them one after another, measured in the same run: a sample of
  ``SEQUENTIAL_SAMPLE`` followers placed one at a time (one worker, batch size 1, no concurrency) through
  the same worker process, scaled per follower to 1,000.

The followers are seeded through the repositories against the stack's moto (users, plans, keys with their
KMS-encrypted secrets, follows, and each key's fresh account read in the equity cache, as the fan-out's
previous read of the account leaves it); the signal goes through the real route, the queue and its event
source mapping, the worker processes, ccxt and the simulator.
"""

from __future__ import annotations

import hashlib
import os
import time
import uuid

from benchmarks.support import MachineCpu, WeightWatch, local_stack, seed_keys, signal_secret

FOLLOWERS = int(os.environ.get("BENCH_FOLLOWERS", "1000"))
SEQUENTIAL_SAMPLE = int(os.environ.get("BENCH_SEQUENTIAL_SAMPLE", "40"))
LATENCY_MS = 50
STRATEGY = "b9f67eb2-1d6e-4a47-a735-d0d9039c9b08"  # STRATEGY #1, BTC/USDT
SIGNAL = {
    "side": "BUY",
    "type": "MARKET",
    "takeProfitPrices": [19400, 19600],
    "stopTriggerPrice": 19000,
    "leverage": 5,
}
FUNCTION = "StrategyFanOutFunction"


def _message(body: str) -> dict:
    return {
        "MessageId": str(uuid.uuid4()),
        "ReceiptHandle": str(uuid.uuid4()),
        "Body": body,
        "MD5OfBody": hashlib.md5(body.encode(), usedforsecurity=False).hexdigest(),
        "Attributes": {"ApproximateReceiveCount": "1", "SentTimestamp": str(int(time.time() * 1000))},
    }


def test_a_signal_reaches_1000_followers_within_30_seconds_and_the_weight_budget(bench_report):
    from core.models.signals import FanOutOrder, Outcome
    from core.repositories.triggers import TriggerRepository
    from core.timeutil import iso_now
    from local.events import sqs_event

    with local_stack() as bench:
        simulator = bench.simulator
        simulator.set_price("BTC/USDT", 19200)
        started = time.monotonic()
        seed_keys(
            bench,
            FOLLOWERS,
            usdt=lambda i: 1000 + (i % 10) * 500,
            strategy_id=STRATEGY,
            automated=True,
            equity_cached=True,
        )
        seeding = time.monotonic() - started
        secret = signal_secret(bench, STRATEGY)
        limit = simulator.weights.limit("futures")

        # When the strategy fires, at 50 ms a request
        simulator.set_faults(latency_ms=LATENCY_MS)
        simulator.reset_weights()
        simulator.clear_received()
        body = {**SIGNAL, "secret": secret, "timestamp": iso_now(), "signalId": str(uuid.uuid4())}
        with WeightWatch(simulator) as watch, MachineCpu() as cpu:
            fired = time.monotonic()
            answer = bench.post(f"/v1/hook/strategy/{STRATEGY}/signal", body)
            accepted = time.monotonic() - fired
            assert answer.status_code == 202, answer.text
            bench.stack.wait_until_drained(FUNCTION, timeout=900)
            parallel = time.monotonic() - fired
        throttled = bench.throttled()
        trigger_id = answer.json()["triggerId"]
        outcomes = TriggerRepository().outcomes(trigger_id)
        placed = sum(1 for o in outcomes if o.outcome is Outcome.PLACED)
        requests_seen = len(simulator.received())

        # The same, one follower after another: a sample through one warm worker, batch size 1
        sample = seed_keys(
            bench,
            SEQUENTIAL_SAMPLE,
            usdt=lambda i: 1000 + (i % 10) * 500,
            strategy_id=STRATEGY,
            automated=True,
            equity_cached=True,
        )
        simulator.reset_weights()
        queue_arn = bench.stack.template.queue_arn("StrategyFanOutQueue")
        pool = bench.stack.pools[FUNCTION]
        one_by_one = time.monotonic()
        for follower in sample:
            order = FanOutOrder(
                trigger_id=trigger_id,
                strategy_id=STRATEGY,
                follow_id=follower.follow_id,
                user_id=follower.user_id,
                key_id=follower.key_id,
            )
            result = pool.invoke(sqs_event([_message(order.model_dump_json())], queue_arn))
            assert not (result or {}).get("batchItemFailures"), result
        per_follower = (time.monotonic() - one_by_one) / SEQUENTIAL_SAMPLE
        sample_placed = sum(
            1
            for o in TriggerRepository().outcomes(trigger_id)
            if o.outcome is Outcome.PLACED and o.follow_id in {f.follow_id for f in sample}
        )
        simulator.set_faults()

    sequential = per_follower * FOLLOWERS
    speedup = sequential / parallel
    print(
        f"\nfan-out: {FOLLOWERS} followers seeded in {seeding:.1f} s; signal answered in {accepted:.2f} s;"
        f" {placed} placed, every follower done {parallel:.1f} s after the signal; {requests_seen} exchange"
        f" requests; peak used weight {watch.peak} on {watch.peak_ip} (limit {limit}); {throttled} throttled;"
        f" sequential {per_follower * 1000:.0f} ms a follower ({sample_placed}/{SEQUENTIAL_SAMPLE} placed)"
        f" -> {sequential:.0f} s for {FOLLOWERS}; speedup {speedup:.1f}x; the machine's {cpu.cores} cores"
        f" {cpu.share:.0%} busy, {cpu.busy_seconds / FOLLOWERS * 1000:.0f} ms of CPU a follower"
    )
    bench_report.add(
        f"Signal fan-out: {FOLLOWERS} followers at {LATENCY_MS} ms, every order placed after the signal",
        target="<= 30 s",
        measured=f"{parallel:.1f} s ({placed}/{FOLLOWERS} placed)",
        ratio=parallel / 30,
        met=parallel <= 30 and placed == FOLLOWERS,
    )
    bench_report.add(
        f"Signal fan-out: peak request weight per IP ({FOLLOWERS} followers)",
        target=f"< {limit} (simulator's USD-M limit), no 429",
        measured=f"{watch.peak} ({throttled} throttled)",
        ratio=watch.peak / limit,
        met=watch.peak < limit and throttled == 0,
    )
    # Not a target: what bounds the wall time here. Every process of the stack shares this machine (moto
    # answering every AWS call, the fan-out and alert workers, the simulator); on AWS each container has its
    # own CPU, so a fan-out whose CPU fills this machine's cores takes the CPU's time, not the exchange's.
    floor = cpu.busy_seconds / cpu.cores
    bench_report.add(
        f"Signal fan-out: CPU of the whole local stack per follower ({FOLLOWERS} followers, {cpu.cores} cores"
        f" {cpu.share:.0%} busy)",
        target="context: the wall-time floor it sets on this machine",
        measured=f"{cpu.busy_seconds / FOLLOWERS * 1000:.0f} ms a follower: {floor:.1f} s on {cpu.cores} cores",
        ratio=floor / parallel if parallel else None,
        met=floor <= 30,
    )
    bench_report.add(
        f"Signal fan-out: speed-up over one follower after another ({SEQUENTIAL_SAMPLE}-follower sample"
        f" at {per_follower * 1000:.0f} ms each, scaled to {FOLLOWERS})",
        target=">= 40x",
        measured=f"{speedup:.1f}x ({sequential:.0f} s vs {parallel:.1f} s)",
        ratio=speedup / 40,
        met=speedup >= 40,
    )
    assert placed == FOLLOWERS
    assert sample_placed == SEQUENTIAL_SAMPLE
    assert throttled == 0
    assert watch.peak < limit
    assert parallel <= 30
    assert speedup >= 40
