"""Errors the CLI turns into one line and an exit code."""

from __future__ import annotations


class MlopsError(Exception):
    """A known failure: the message is the one line the user sees."""

    exit_code = 2


class InputError(MlopsError):
    """Bad input data, a missing file or a missing prerequisite (exit 2)."""


class ConfigError(MlopsError):
    """A configuration file is missing, unparseable or has a wrong key or value (exit 2)."""


class CheckFailed(MlopsError):
    """The job did its work and a check or gate said no (exit 1)."""

    exit_code = 1
