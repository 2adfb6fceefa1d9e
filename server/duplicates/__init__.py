"""Duplicate proposals: reports of the same event from different sources, and their consolidation.

``engine`` finds and scores candidate pairs (pure, no database); ``consolidate`` builds a consolidated
incident from its source reports (pure); ``service`` and ``views`` persist proposals and serve them.
"""
