"""Errors the command line reports as one line (imported by every command module)."""


class UserError(Exception):
    """An error in the user's input: printed as one line, exit status 2."""


def named(names: list[str], singular: str, plural: str) -> str:
    """The options named and the verb agreeing with them: ``named(['--tc'], 'applies', 'apply')``
    is "--tc applies", two names "--tc, --gap apply" (the messages read "appl(y/ies)" before
    session 56)."""
    return f"{', '.join(names)} {singular if len(names) == 1 else plural}"
