"""Errors a user can cause. The CLI prints them as one line and exits non-zero, with no traceback."""


class UserError(Exception):
    """Bad input from the user (a file, a row, a config key). The message names what is wrong and where."""


class ConfigError(UserError):
    """A recipe or override that does not fit the typed config."""


class DataError(UserError):
    """A data file or row that does not fit the expected schema."""
