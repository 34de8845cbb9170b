"""On MySQL/MariaDB, compare the digests, purposes and user ids byte for byte.

Their default collations ignore case (and Django declares no collation), so
``invalidate("alice", ...)`` would also reach a user ``"Alice"``. Other databases compare
text exactly already: there this migration does nothing. Written by hand: Django models
cannot declare a collation for one vendor only.
"""

from typing import Any

from django.db import migrations  # type: ignore[import-untyped]

_TABLE = "bk_dj_one_time_tokens"
#: (column, length)
_COLUMNS = [("digest", 64), ("purpose", 40), ("user_id", 255)]


def exact_ids(apps: Any, schema_editor: Any) -> None:
    """ALTER the id columns to utf8mb4_bin on MySQL/MariaDB."""
    if schema_editor.connection.vendor != "mysql":
        return
    quote = schema_editor.quote_name
    changes = ", ".join(
        f"MODIFY {quote(name)} VARCHAR({length}) CHARACTER SET utf8mb4 COLLATE utf8mb4_bin NOT NULL"
        for name, length in _COLUMNS
    )
    schema_editor.execute(f"ALTER TABLE {quote(_TABLE)} {changes}")


class Migration(migrations.Migration):  # type: ignore[misc]
    """Byte-for-byte id columns on MySQL/MariaDB."""

    dependencies = [("backendkit_onetime", "0001_initial")]  # noqa: RUF012

    # DDL: MySQL/MariaDB cannot run it inside a transaction.
    atomic = False
    operations = [migrations.RunPython(exact_ids, migrations.RunPython.noop)]  # noqa: RUF012
