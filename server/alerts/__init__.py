"""Early warning and rapid response: alert rules, alerts raised from the change feed, their lifecycle, the live stream, CAP and webhooks."""
