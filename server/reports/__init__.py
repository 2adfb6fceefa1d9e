"""Reports: immutable versions, the derived current state, listing with filters, history, review."""
