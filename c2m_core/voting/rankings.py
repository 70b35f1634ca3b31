"""Reading a batch of ranking texts at once: the import path of ranked (Schulze) ballots.

The texts of a batch are joined into one byte array and read with numpy: each character is
classed (digit, ``>``, ``=``, line end, anything else), the digit runs become ids, the ids
candidate positions, and each text's places (``>``) and groups (``=``) become bit masks. A
text is taken only when it is exactly ids of known candidates, each once, separated by single
``>`` or ``=`` (``3>1=2>4``); every other text (spaces, unknown or repeated ids, empty places,
leading zeros, anything but text) is left to the careful reading, which names what is wrong.

For the texts taken, the result is what reading each one with ``ballots.ranking`` gives: the
stored text of its canonical ballot (groups in candidate order, the candidates it leaves out
tied last) and the pairwise counts ``d`` of ``schulze.pairwise_preferences``.
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from typing import NamedTuple

import numpy as np

from .ballots import ids_text

#: The most candidates the array reading takes (each text's groups are bit masks in 64 bits,
#: with two bits to say which piece of stored text a group is).
MAX_CANDIDATES = 60
#: Up to this many candidates, ``d`` is counted from a table of (candidate, mask below it)
#: pairs of ``n * 2**n`` cells; above it, one pass per candidate.
TABLE_CANDIDATES = 12
#: How many pieces of stored text ``Pieces`` remembers before it starts again.
PIECES_LIMIT = 100_000

_NL, _GT, _EQ, _ZERO = 10, 62, 61, 48
#: The kinds of piece a group's stored text is written as (see ``Pieces``).
_FIRST_GROUP, _NEXT_GROUP, _LAST_GROUP, _END = range(4)


class Read(NamedTuple):
    """What ``read_rankings`` made of a batch of texts."""

    #: Whether each text was taken (False: left to the careful reading).
    taken: np.ndarray
    #: The stored text of each text taken, in order.
    texts: list[str]
    #: The pairwise counts of the texts taken: ``d[i][j]`` of them rank candidate ``i``
    #: (in candidate order) above candidate ``j``.
    d: list[list[int]]


class Pieces(dict):
    """``kind << n | mask`` -> a piece of stored text: a group of candidates (bit mask) as
    the first group (``{"rank":[[1,2]``), a next one (``,[3]``), the last one with the end
    (``,[4,5]]}``), or the end alone (``]}``); each piece ending a ballot ends with a line
    end, so the pieces of a batch, joined, are its stored texts one per line."""

    def __init__(self, candidates: tuple[int, ...]):
        super().__init__()
        self.candidates = candidates
        self.n = len(candidates)

    def __missing__(self, key: int) -> str:
        kind, mask = key >> self.n, key & ((1 << self.n) - 1)
        ids = ids_text([c for i, c in enumerate(self.candidates) if mask >> i & 1])
        piece = ('{"rank":[' + ids, "," + ids, "," + ids + "]}\n", "]}\n")[kind]
        if len(self) >= PIECES_LIMIT:
            self.clear()
        self[key] = piece
        return piece


class Rankings:
    """Reads batches of ranking texts for one vote's candidates (``read``)."""

    def __init__(self, candidates: Sequence[int]):
        self.candidates = tuple(candidates)
        n = self.n = len(self.candidates)
        if not 1 <= n <= MAX_CANDIDATES:
            raise ValueError(f"{n} candidates: the array reading takes 1 to {MAX_CANDIDATES}")
        ids = np.array(self.candidates, dtype=np.int64)
        self.order = np.argsort(ids, kind="stable")
        self.sorted_ids = ids[self.order]
        self.width = len(str(max(self.candidates)))
        self.full = (1 << n) - 1
        self.pieces = Pieces(self.candidates)

    def read(self, texts: Sequence[object]) -> Read:
        """Read ``texts`` (anything but text is not taken)."""
        k = len(texts)
        try:
            joined = "\n".join(texts)  # type: ignore[arg-type]
        except TypeError:
            joined = "\n".join(t if type(t) is str else "" for t in texts)
        if joined.count("\n") != k - 1:  # a text with a line end: not taken
            joined = "\n".join("" if type(t) is not str or "\n" in t else t for t in texts)
        b = np.frombuffer(joined.encode("utf-8", "replace"), dtype=np.uint8)
        digit = (b - np.uint8(_ZERO)) < 10
        gt = b == _GT
        nl = b == _NL
        sep = gt | (b == _EQ)
        row_of = np.cumsum(nl)  # the text of each character (a line end: the next one)
        bad = np.zeros(k, dtype=bool)
        bad[row_of[~(digit | sep | nl)]] = True
        ends = np.flatnonzero(nl)
        row_start = np.concatenate(([0], ends + 1))
        row_end = np.concatenate((ends, [len(b)]))  # exclusive
        # padded[i + 1] is digit[i]: a text starts and ends with a digit, and a separator
        # stands between two digits (so no place is empty)
        padded = np.concatenate(([False], digit, [False]))
        bad |= ~padded[row_start + 1] | ~padded[row_end] | (row_start == row_end)
        at = np.flatnonzero(sep)
        bad[row_of[at[~(padded[at] & padded[at + 2])]]] = True

        # the ids: runs of digits
        starts = np.flatnonzero(digit & ~padded[:-2])
        length = np.flatnonzero(digit & ~padded[2:]) - starts + 1
        row = row_of[starts]
        bad[row[(length > self.width) | ((b[starts] == _ZERO) & (length > 1))]] = True
        value = np.zeros(len(starts), dtype=np.int64)
        last = len(b) - 1
        for j in range(self.width):
            more = length > j
            digits = b[np.minimum(starts + j, last)].astype(np.int64) - _ZERO
            value = np.where(more, value * 10 + digits, value)
        n = self.n
        found = np.searchsorted(self.sorted_ids, value).clip(max=n - 1)
        bad[row[self.sorted_ids[found] != value]] = True
        position = self.order[found]
        # a candidate given twice in one text
        seen = np.bincount(row * n + position, minlength=k * n)
        bad[row[seen[row * n + position] > 1]] = True

        keep = ~bad[row]
        row, position, starts = row[keep], position[keep], starts[keep]
        taken = ~bad
        if not len(row):
            return Read(taken, [], [[0] * n for _ in range(n)])
        # places: a group is the ids of one text between two '>'; ``group`` numbers them
        # over the batch (the '>' before each id, plus its row)
        group = np.cumsum(gt)[starts] + row
        new_group = np.empty(len(group), dtype=bool)
        new_group[0] = True
        np.not_equal(group[1:], group[:-1], out=new_group[1:])
        group_start = np.flatnonzero(new_group)
        bits = np.left_shift(np.uint64(1), position.astype(np.uint64))
        mask = np.add.reduceat(bits, group_start)  # each group's candidates
        group_row = row[group_start]
        new_row = np.empty(len(group_row), dtype=bool)
        new_row[0] = True
        np.not_equal(group_row[1:], group_row[:-1], out=new_row[1:])
        first_group = np.flatnonzero(new_row)
        last_group = np.concatenate((first_group[1:] - 1, [len(mask) - 1]))
        # each group with those ranked above it: a running sum over the batch (wrapping in
        # 64 bits) less the sum before its row's first group
        through = np.cumsum(mask)
        before = through[first_group] - mask[first_group]
        through -= before[np.cumsum(new_row) - 1]
        full = np.uint64(self.full)
        below = full ^ through  # what each group's candidates are preferred to
        d = self._pairs(position, below[np.cumsum(new_group) - 1])

        # the stored texts: one piece per group, one per row for its end (with the
        # candidates it leaves out as its last group), joined in order
        shift = np.uint64(n)
        kinds = np.full(len(mask), _NEXT_GROUP, dtype=np.uint64)
        kinds[first_group] = _FIRST_GROUP
        keys = (kinds << shift) | mask
        rest = full ^ through[last_group]
        ending = np.where(rest == 0, np.uint64(_END), np.uint64(_LAST_GROUP)) << shift | rest
        keys = np.insert(keys, last_group + 1, ending)
        stored = "".join(map(self.pieces.__getitem__, keys.tolist())).split("\n")
        stored.pop()
        return Read(taken, stored, d)

    def _pairs(self, position: np.ndarray, below: np.ndarray) -> list[list[int]]:
        """``d`` from each ranked candidate's position and the mask of those below it."""
        n = self.n
        if n <= TABLE_CANDIDATES:
            table = np.bincount(
                (position.astype(np.int64) << n) | below.astype(np.int64), minlength=n << n
            )
            return (table.reshape(n, 1 << n) @ _bit_table(n)).tolist()
        d = np.empty((n, n), dtype=np.int64)
        for j in range(n):
            chosen = ((below >> np.uint64(j)) & np.uint64(1)).astype(bool)
            d[:, j] = np.bincount(position[chosen], minlength=n)
        return d.tolist()


@functools.lru_cache(maxsize=16)
def _bit_table(n: int) -> np.ndarray:
    """``2**n`` rows by ``n``: row ``m`` holds the bits of ``m``."""
    return (np.arange(1 << n, dtype=np.int64)[:, None] >> np.arange(n)) & 1
