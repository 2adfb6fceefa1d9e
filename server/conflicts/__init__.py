"""Reports with more than one head: list them with a field-by-field diff, and resolve them."""
