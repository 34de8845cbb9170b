"""On MySQL/MariaDB, compare the ids byte for byte.

Their default collations ignore case (and Django declares no collation), so
``revoke_user("alice")`` would also reach a user ``"Alice"``. Other databases compare text
exactly already: there this migration does nothing. Written by hand: Django models cannot
declare a collation for one vendor only.
"""

from typing import Any

from django.db import migrations

#: table -> (column, length, nullable)
_COLUMNS = {
    "bk_dj_token_sessions": [
        ("sub", 256, False),
        ("sid", 64, False),
        ("current_jti", 64, False),
        ("previous_jti", 64, True),
    ],
    "bk_dj_token_denied": [("sub", 256, False), ("jti", 64, False)],
    "bk_dj_token_user_cutoffs": [("sub", 256, False)],
}


def exact_ids(apps: Any, schema_editor: Any) -> None:
    """ALTER the id columns to utf8mb4_bin on MySQL/MariaDB."""
    if schema_editor.connection.vendor != "mysql":
        return
    quote = schema_editor.quote_name
    for table, columns in _COLUMNS.items():
        changes = ", ".join(
            f"MODIFY {quote(name)} VARCHAR({length}) CHARACTER SET utf8mb4 COLLATE utf8mb4_bin "
            + ("NULL" if nullable else "NOT NULL")
            for name, length, nullable in columns
        )
        schema_editor.execute(f"ALTER TABLE {quote(table)} {changes}")


class Migration(migrations.Migration):
    """Byte-for-byte id columns on MySQL/MariaDB."""

    dependencies = [("backendkit_tokenstore", "0001_initial")]  # noqa: RUF012

    # DDL: MySQL/MariaDB cannot run it inside a transaction.
    atomic = False
    operations = [migrations.RunPython(exact_ids, migrations.RunPython.noop)]  # noqa: RUF012
