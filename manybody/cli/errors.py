"""Errors the command line reports as one line (imported by every command module)."""


class UserError(Exception):
    """An error in the user's input: printed as one line, exit status 2."""
