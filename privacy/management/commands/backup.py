"""`manage.py backup [--dir DIR] [--keep-days N]`: one dated archive of the
database and the private media folder (privacy.backups). Exit status 1 and one
line when it cannot."""

from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from privacy.backups import BackupError, make_backup, prune_backups


class Command(BaseCommand):
    help = "Write a dated archive: a consistent database dump and the private files."

    def add_arguments(self, parser):
        parser.add_argument(
            "--dir",
            default=str(Path(settings.BASE_DIR) / "backups"),
            help="the folder for the archive (default: backups/)",
        )
        parser.add_argument(
            "--keep-days",
            type=int,
            default=None,
            help="then delete this tool's archives in the folder older than this",
        )

    def handle(self, *args, **options):
        folder, keep_days = Path(options["dir"]), options["keep_days"]
        try:
            archive, manifest = make_backup(folder)
        except BackupError as exc:
            raise CommandError(str(exc)) from None
        rows = sum(manifest["tables"].values())
        self.stdout.write(
            f"Backed up {rows} rows in {len(manifest['tables'])} tables and "
            f"{len(manifest['media'])} files to {archive} "
            f"({archive.stat().st_size} bytes, taken {manifest['created_at']})."
        )
        if keep_days is not None:
            for old in prune_backups(folder, keep_days=keep_days, now=timezone.now()):
                self.stdout.write(f"Deleted {old} (older than {keep_days} days).")
