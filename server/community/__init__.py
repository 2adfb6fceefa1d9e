"""Community alerts: villagers' calls (logged by liaison assistants) and SMS (from a gateway), matched
to the gazetteer, triaged into the early-warning pipeline, answered, with callers' identity protected.

Modules: ``protection`` (mission key, caller identity at rest, purge), ``gazetteer`` (fuzzy place
matching), ``sms`` (parsing coded and free messages), ``intake`` (gateways, signatures, idempotent
and throttled SMS intake), ``service`` (hotline log, triage queue, confirm/link/dismiss),
``duplicates`` (possible duplicates), ``outbox`` (replies to callers), ``views`` and ``cli``.
"""
