"""Django's command-line utility for the example: ``python -m examples.django_app.manage``."""

import os
import sys


def main() -> None:
    """Run a Django management command (``migrate``, ``check``, ``bootstrap_admin``, ...)."""
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "examples.django_app.project.settings")
    from django.core.management import execute_from_command_line

    execute_from_command_line(sys.argv)


if __name__ == "__main__":
    main()
