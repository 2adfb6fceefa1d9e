"""The FastAPI mission server and the peacewatch admin CLI."""
