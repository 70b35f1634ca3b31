"""Reading a batch of ranking texts at once: the import path of ranked (Schulze) ballots.

The texts of a batch are joined into one byte array and read with numpy: each character is
classed (digit, ``>``, ``=``, line end, anything else), the digit runs become ids, the ids
candidate positions, and each text's places (``>``) and groups (``=``) become bit masks. A
text is taken only when it is exactly ids of known candidates, each once, separated by single
``>`` or ``=`` (``3>1=2>4``); every other text (spaces, unknown or repeated ids, empty places,
leading zeros, anything but text) is left to the careful reading, which names what is wrong.

For the texts taken, the result is what reading each one with ``ballots.ranking`` gives: the
stored text of its canonical ballot (groups in candidate order, the candidates it leaves out
tied last) and the pairwise counts ``d`` of ``schulze.pairwise_preferences``, each text
counted with its weight (a batch that repeats its rankings is read a distinct text at a
time). Memory grows with the batch's characters and ids, not with its size times the
number of candidates.
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
    """What ``Rankings.read`` made of a batch of texts."""

    #: Whether each text was taken (False: left to the careful reading).
    taken: np.ndarray
    #: The stored text of each text taken, in order.
    texts: list[str]
    #: The pairwise counts of the texts taken: ``d[i][j]`` of them rank candidate ``i``
    #: (in candidate order) above candidate ``j`` (each counted with its weight).
    d: list[list[int]]
    #: How many ballots the texts taken are (the sum of their weights).
    ballots: int


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

    def read(self, texts: Sequence[object], weights: Sequence[int] | None = None) -> Read:
        """Read ``texts`` (anything but text is not taken), each counted ``weights`` times
        (default: once)."""
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
        if not len(row):
            return Read(~bad, [], [[0] * n for _ in range(n)], 0)
        found = np.searchsorted(self.sorted_ids, value).clip(max=n - 1)
        bad[row[self.sorted_ids[found] != value]] = True
        position = self.order[found]
        bits = np.left_shift(np.uint64(1), position.astype(np.uint64))
        # a candidate given twice in one text: fewer candidates in it than ids
        first = np.flatnonzero(_starts(row))
        ids = np.diff(np.append(first, len(row)))
        bad[row[first][_bit_count(np.bitwise_or.reduceat(bits, first)) != ids]] = True

        keep = ~bad[row]
        row, starts, position, bits = row[keep], starts[keep], position[keep], bits[keep]
        taken = ~bad
        if not len(row):
            return Read(taken, [], [[0] * n for _ in range(n)], 0)
        # places: a group is the ids of one text between two '>'; ``group`` numbers them
        # over the batch (the '>' before each id, plus its row)
        new_group = _starts(np.cumsum(gt)[starts] + row)
        group_start = np.flatnonzero(new_group)
        mask = np.add.reduceat(bits, group_start)  # each group's candidates
        new_row = _starts(row[group_start])
        first_group = np.flatnonzero(new_row)
        last_group = np.concatenate((first_group[1:] - 1, [len(mask) - 1]))
        # each group with those ranked above it: a running sum over the batch (wrapping in
        # 64 bits) less the sum before its row's first group
        through = np.cumsum(mask)
        before = through[first_group] - mask[first_group]
        through -= before[np.cumsum(new_row) - 1]
        full = np.uint64(self.full)
        below = full ^ through  # what each group's candidates are preferred to
        weight = None if weights is None else np.asarray(weights, dtype=np.int64)
        d = self._pairs(
            position,
            below[np.cumsum(new_group) - 1],
            None if weight is None else weight[row],
        )
        ballots = len(first_group) if weight is None else int(weight[taken].sum())

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
        return Read(taken, stored, d, ballots)

    def _pairs(self, position, below, weight) -> list[list[int]]:
        """``d`` from each ranked candidate's position, the mask of those below it and the
        weight of its text (None: 1 each). Weighted counts are summed as floats, exact below
        2**53."""
        n = self.n
        if n <= TABLE_CANDIDATES:
            key = (position.astype(np.int64) << n) | below.astype(np.int64)
            table = np.bincount(key, weight, minlength=n << n).astype(np.int64)
            return (table.reshape(n, 1 << n) @ _bit_table(n)).tolist()
        d = np.empty((n, n), dtype=np.int64)
        for j in range(n):
            chosen = ((below >> np.uint64(j)) & np.uint64(1)).astype(bool)
            counted = np.bincount(
                position[chosen], None if weight is None else weight[chosen], minlength=n
            )
            d[:, j] = counted.astype(np.int64)
        return d.tolist()


def _starts(values: np.ndarray) -> np.ndarray:
    """Where each run of equal ``values`` starts (True), as a boolean array."""
    found = np.empty(len(values), dtype=bool)
    found[:1] = True
    np.not_equal(values[1:], values[:-1], out=found[1:])
    return found


_M1, _M2, _M4, _H01 = (
    np.uint64(m)
    for m in (0x5555555555555555, 0x3333333333333333, 0x0F0F0F0F0F0F0F0F, 0x0101010101010101)
)


def _bit_count(x: np.ndarray) -> np.ndarray:
    """The number of set bits of each uint64 (numpy before 2.0 has no ``bitwise_count``)."""
    x = x - ((x >> np.uint64(1)) & _M1)
    x = (x & _M2) + ((x >> np.uint64(2)) & _M2)
    x = (x + (x >> np.uint64(4))) & _M4
    return (x * _H01) >> np.uint64(56)


@functools.lru_cache(maxsize=16)
def _bit_table(n: int) -> np.ndarray:
    """``2**n`` rows by ``n``: row ``m`` holds the bits of ``m``."""
    return (np.arange(1 << n, dtype=np.int64)[:, None] >> np.arange(n)) & 1
