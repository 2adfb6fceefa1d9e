"""Content-addressed attachments: chunk upload, manifest commit, access-checked download."""
