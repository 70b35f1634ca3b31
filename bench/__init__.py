"""c2m benchmarks: figures a person can rerun with ``python -m bench``.

Each module exposes ``run(quick: bool) -> list[Row]``; ``python -m bench`` runs them all and
prints one table. Figures are ratios against a floor measured in the same run, never absolute
targets asserted in tests.
"""
