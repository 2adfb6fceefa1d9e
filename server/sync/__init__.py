"""Sync protocol v1, server side: push batches of report versions, pull the change feed."""
