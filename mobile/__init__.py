"""Tablet side: a UI-free core (store, drafts, outbox, sync) and a thin Kivy UI."""
