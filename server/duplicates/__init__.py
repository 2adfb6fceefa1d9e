"""Duplicate proposals: reports of the same event from different sources, and their consolidation.

The pure engine (no database, no web), gathered by ``engine``: ``inputs`` (the one input validator),
``geometry``, ``index`` (candidate pairs, hard limits, proposals), ``scoring`` (the calibrated model,
``scoring_params.json``) and ``reasons`` (for and against, translatable). ``consolidate`` builds a
consolidated incident from its source reports (pure); ``service``, ``backlog`` and ``views`` persist
proposals and serve them. See docs/duplicates.md.
"""
