"""Synthetic campaigns with a known choice model and a known conversion, to test the forecast.

Each of ``participants`` customers chooses among the variants and the outside option by a
multinomial logit (variant utilities drawn per campaign, outside utility 0, Gumbel noise); a
random ``ballot_share`` of them vote, each flagging the variant they chose as "would buy" (or
nothing); at the pre-sale every customer who chose a variant pledges with probability
``conversion``, for 1 unit (or 2 to 3, one pledge in ten). What the forecast sees (ballot
counts, participants) and the truth (units pledged) come from the same draws.
"""

from __future__ import annotations

import math
import random

import attrs


@attrs.frozen
class SyntheticCampaign:
    """What the forecast sees and the truth. Variants are numbered from 1; 0 is buying none.

    ``votes``: ``(participant, choice)`` per voter; ``pledges``: ``(participant, variant,
    quantity)`` per pledge, so a test can replay the campaign through the services.
    """

    participants: int
    ballots: int
    choices: dict[int, int]
    units: dict[int, int]
    probabilities: dict[int, float]
    votes: tuple[tuple[int, int], ...] = ()
    pledges: tuple[tuple[int, int, int], ...] = ()


def synthetic_campaign(
    rng: random.Random,
    variants: int = 4,
    participants: int = 2000,
    ballot_share: float = 0.3,
    conversion: float = 0.4,
) -> SyntheticCampaign:
    utilities = [rng.uniform(-3.0, -0.5) for _ in range(variants)]
    weights = [1.0] + [math.exp(u) for u in utilities]
    total = sum(weights)
    probabilities = {v: weights[v] / total for v in range(1, variants + 1)}
    options = list(range(variants + 1))  # 0 is the outside option
    chosen = rng.choices(options, weights=weights, k=participants)
    voters = rng.sample(range(participants), round(participants * ballot_share))
    choices = dict.fromkeys(range(1, variants + 1), 0)
    for voter in voters:
        if chosen[voter]:
            choices[chosen[voter]] += 1
    units = dict.fromkeys(range(1, variants + 1), 0)
    pledges = []
    for participant, choice in enumerate(chosen):
        if choice and rng.random() < conversion:
            quantity = 1 if rng.random() < 0.9 else rng.randint(2, 3)
            units[choice] += quantity
            pledges.append((participant, choice, quantity))
    return SyntheticCampaign(
        participants,
        len(voters),
        choices,
        units,
        probabilities,
        votes=tuple((voter, chosen[voter]) for voter in voters),
        pledges=tuple(pledges),
    )
