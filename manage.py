#!/usr/bin/env python
"""Django's command-line utility for administrative tasks.

A configuration error, or a database that cannot be reached, ends the command
with one line and exit status 1 (config/env.py), not a traceback."""

import os
import sys


def main() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    from django.core.management import execute_from_command_line

    from config.env import exit_on_config_error

    with exit_on_config_error():
        from django.conf import settings

        settings.INSTALLED_APPS  # noqa: B018 - reads the settings, so errors show here
    with exit_on_config_error(database=True):
        execute_from_command_line(sys.argv)


if __name__ == "__main__":
    main()
