"""Sign-in, bearer tokens, device credentials and the request's principal."""
