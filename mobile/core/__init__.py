"""The tablet app's UI-free core: everything the Kivy screens and the sync client call.

Modules (each owns one thing; the UI never touches SQL):

- ``keys``        PIN -> Argon2id master key -> HKDF subkeys; plaintext header; PIN-failure back-off
- ``store``       the SQLCipher database under sqlite-utils: open with PIN, wipe, change PIN, transactions
- ``migrations``  the local schema as ordered, recorded migrations
- ``drafts``      form state saved on every change (crash- and full-disk-proof)
- ``reports``     finalise drafts into versions, edit, heads/conflicts, list and counts for the UI
- ``dag``         the per-report version DAG (heads, conflict rule shared with the server)
- ``outbox``      the sync client's API: pending versions and attachments, pull pages with cursor
- ``attachments`` AES-GCM encrypted, content-addressed files, streamed; upload chunks
- ``reference``   place names and sensitive sites, prefix search in en/fr/ar
- ``location``    GPS fix (plyer) or typed MGRS / lat/lon -> WGS 84 with precision
- ``errors``      the exception tree
- ``sync_client`` one sync run: push the outbox, pull the feed, upload attachments; around it
  ``sync_wire`` (requests and answers, from ``common.sync_protocol``'s messages), ``sync_pacing``
  (batch/page sizes, timeouts, backoff), ``sync_progress`` (what the screen shows), ``sync_store``
  (the ``SyncStore`` protocol and its adapter over ``outbox`` and ``attachments``), ``enrolment``
  (one-time code -> device credential) and ``transport`` (the HTTP seam)

Typical session::

    store = Store.open(path, pin)                 # WrongPin / LockedOut / StoreWiped
    Drafts(store).save_draft(report_id, "incident", form_fields)     # on every change
    result = Reports(store).finalise(report_id)   # .errors for the form, or .version_id
    Outbox(store).pending_versions(50)            # what sync_client pushes (see outbox.py)
"""
