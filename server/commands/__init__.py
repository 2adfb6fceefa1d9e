"""The core ``peacewatch`` subcommands: server, seed, admin."""
