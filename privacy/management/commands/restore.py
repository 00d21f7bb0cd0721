"""`manage.py restore FILE [--force]`: put an archive from `backup` back into
an empty database and media folder, then erase again everyone the erasure log
names (privacy.backups). Exit status 1 and one line when it cannot."""

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from privacy.backups import BackupError, restore_backup


class Command(BaseCommand):
    help = "Restore an archive written by `backup` into an empty database."

    def add_arguments(self, parser):
        parser.add_argument("file", help="the archive, e.g. backups/cpd-....tar.gz")
        parser.add_argument(
            "--force",
            action="store_true",
            help="replace a database and media folder that are not empty",
        )

    def handle(self, *args, file, force, **options):
        try:
            done = restore_backup(Path(file), force=force)
        except BackupError as exc:
            raise CommandError(str(exc)) from None
        self.stdout.write(
            f"Restored {done.rows} rows in {done.tables} tables and {done.files} "
            f"files from the backup taken {done.created_at}; rows and files "
            "match its manifest."
        )
        if done.migrations_applied:
            self.stdout.write(
                f"Applied {done.migrations_applied} migrations the backup predates."
            )
        erasures = ", ".join(f"{n} {what}" for what, n in done.erasures.items())
        self.stdout.write(f"Erasure log replayed: {erasures}.")
