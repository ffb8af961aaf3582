"""The one error type users see: a one-line message that says what is wrong and what to do."""


class DoppelError(Exception):
    """Bad input or a missing resource. The CLI prints it on one line and exits with code 2."""

    exit_code = 2
