"""Benchmarks for the atlas: ``python -m bench`` (or ``make bench``) writes bench/results.json and RESULTS.md.

Each figure lives in its own module (``fig_*.py``) with a ``run(ctx) -> dict`` function. Timings are
medians of several runs with their spread; every comparison is a ratio of two numbers measured in
the same run. Nothing here is a unit test: speed belongs here, correctness in tests/.
"""
