"""Consent: the DUO codes a submission (or one of its rows) is published under, and their use.

- :mod:`.codes`: the DUO codes Harmonize applies when no DUO release is pinned;
- :mod:`.vocabulary`: :class:`DataUse`, which checks codes and decides whether consent
  permits a use (with the pinned release's hierarchy when there is one);
- :mod:`.export`: the published rows whose individual's consent permits a use
  (``harmonize tables export --use``).
"""

from harmonize.consent.vocabulary import DataUse

__all__ = ["DataUse"]
