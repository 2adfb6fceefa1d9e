"""Tasks: what HQ learns becomes a task for a patrol, reaches its tablet, and comes back done."""
