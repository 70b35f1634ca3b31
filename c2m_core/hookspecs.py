"""The c2m hook contract.

Names say how results combine:

- ``register_*`` hooks return lists; the core flattens the results of every plugin.
- ``validate_*`` hooks return lists of violations (or raise); every plugin is asked.
- choosers stop at the first non-None result (``firstresult``).
- notifications are named in the past tense and their return values are ignored.

Hooks are always called with keyword arguments; an implementation may accept any subset of a
hook's arguments, so hooks can gain arguments without breaking plugins.
"""

import pluggy

hookspec = pluggy.HookspecMarker("c2m")
hookimpl = pluggy.HookimplMarker("c2m")


# Categories and catalogs ------------------------------------------------------------------------


@hookspec
def register_categories(app):
    """Return a list of ``Category`` objects this plugin provides.

    Results are flattened; two plugins registering the same category name is an error.

    :param app: the ``C2M`` instance loading the plugins
    """


@hookspec
def validate_configuration(app, category, configuration, complete):
    """Return a list of ``Violation`` objects for custom rules the catalog cannot express.

    Every plugin is asked and the results are flattened; return ``[]`` (or None) when the
    configuration is fine or the category is not yours. Check only what the configuration chose;
    modules it leaves out are not yours to report.

    :param app: the ``C2M`` instance
    :param category: the ``Category`` being validated (check ``category.name``)
    :param configuration: a dict mapping module ids to option ids, all known to the catalog
    :param complete: True when every required module must be chosen, False for a partial one
    """


# Command line ------------------------------------------------------------------------------------


@hookspec
def register_commands(cli):
    """Add commands to the ``c2m`` command line.

    Every plugin is called; add commands with ``@cli.command()`` or ``cli.add_command(...)``.

    :param cli: the root ``click.Group`` of the ``c2m`` command
    """


# Templates ---------------------------------------------------------------------------------------


@hookspec
def prepare_jinja2_environment(env, app):
    """Adjust the jinja2 environment used for spec sheets and reports (filters, globals).

    Every plugin is called, in registration order; return values are ignored.

    :param env: the ``jinja2.Environment`` (autoescape on, ``StrictUndefined``)
    :param app: the ``C2M`` instance
    """


# Campaigns ---------------------------------------------------------------------------------------


@hookspec
def validate_campaign_advance(app, campaign, target):
    """Return a list of reasons (strings) why ``campaign`` must not move to ``target`` yet.

    Every plugin is asked and the reasons are joined; any reason refuses the transition, and
    nothing changes. Stages use it to refuse leaving while work is unfinished.

    :param app: the ``C2M`` instance
    :param campaign: the ``Campaign`` as it is now (``campaign.state`` is the current state)
    :param target: the state it would move to
    """


@hookspec
def campaign_advanced(app, campaign, previous):
    """Notification: ``campaign`` moved from ``previous`` to ``campaign.state`` (committed).

    Every plugin is called; return values are ignored.

    :param app: the ``C2M`` instance
    :param campaign: the ``Campaign`` after the transition
    :param previous: the state it left
    """


# Wishes and aggregation --------------------------------------------------------------------------


# Voting ------------------------------------------------------------------------------------------


@hookspec
def register_voting_methods(app):
    """Return a list of ``VotingMethod`` objects (ballot normalisation and tally) to offer.

    Results are flattened in registration order; a method named like one of the core's
    defaults (plurality, approval, score, schulze) replaces it, and two other plugins
    registering the same name is an error.

    :param app: the ``C2M`` instance
    """


@hookspec
def ballot_cast(app, campaign, vote, voter, ballot, replaced):
    """Notification: a ballot was stored (committed), by ``cast`` or in an import batch.

    Every plugin is called; return values are ignored.

    :param app: the ``C2M`` instance
    :param campaign: the ``Campaign`` voting
    :param vote: the ``Vote`` the ballot belongs to
    :param voter: the voter reference
    :param ballot: the ballot in its canonical form (for example ``{"choice": 3}``)
    :param replaced: the voter's earlier ballot it replaced, or None for a first ballot
    """


@hookspec
def vote_closed(app, campaign, vote, result):
    """Notification: a vote was closed and its result stored (committed).

    Every plugin is called; return values are ignored.

    :param app: the ``C2M`` instance
    :param campaign: the ``Campaign`` whose vote closed
    :param vote: the closed ``Vote``
    :param result: the ``VoteResult`` (totals, ranking, winners, tie-breaks)
    """


# Pre-sale ----------------------------------------------------------------------------------------


# Hand-off ----------------------------------------------------------------------------------------
