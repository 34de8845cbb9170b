"""The auth stores on SQLAlchemy: the tables backendkit owns and the stores built on them.

Needs the ``sqlalchemy`` extra (``pip install 'backendkit[sqlalchemy]'``, plus
``[postgres]`` or ``[mysql]`` for those drivers).

- [`auth_metadata`][backendkit.auth.sql.auth_metadata]: the ``MetaData`` of every
  ``bk_``-prefixed table; add it to the app's migrations
  (``target_metadata = [Base.metadata, auth_metadata]`` in Alembic's ``env.py``).
- [`SQLTokenStore`][backendkit.auth.sql.SQLTokenStore]: refresh rotation with reuse
  detection and revocation on PostgreSQL, MySQL/MariaDB or SQLite, for deployments with a
  database and no Redis. Its tables, ``token_sessions_table`` (``bk_token_sessions``),
  ``token_denied_table`` and ``token_user_cutoffs_table``, are exported for operators'
  queries (ending every session after a restore: ``DELETE FROM bk_token_sessions``).
- [`SQLApiKeyStore`][backendkit.auth.sql.SQLApiKeyStore]: API keys for an
  [`ApiKeyService`][backendkit.auth.ApiKeyService], in the ``bk_api_keys`` table
  ([`api_keys_table`][backendkit.auth.sql.api_keys_table]).
- [`SQLOneTimeTokenStore`][backendkit.auth.sql.SQLOneTimeTokenStore]: one-time tokens for
  [`OneTimeTokens`][backendkit.auth.OneTimeTokens], in the ``bk_one_time_tokens`` table
  ([`one_time_tokens_table`][backendkit.auth.sql.one_time_tokens_table]).
"""

# Private aliases keep the package namespace exactly what __all__ lists.
from backendkit._extras import require as _require

_require("sqlalchemy", "sqlalchemy")

from backendkit.auth._api_key_sql import SQLApiKeyStore, api_keys_table
from backendkit.auth._one_time_sql import SQLOneTimeTokenStore, one_time_tokens_table
from backendkit.auth._sql_metadata import auth_metadata
from backendkit.auth._sql_store import SQLTokenStore
from backendkit.auth._sql_tables import (
    token_denied_table,
    token_sessions_table,
    token_user_cutoffs_table,
)

__all__ = [
    "SQLApiKeyStore",
    "SQLOneTimeTokenStore",
    "SQLTokenStore",
    "api_keys_table",
    "auth_metadata",
    "one_time_tokens_table",
    "token_denied_table",
    "token_sessions_table",
    "token_user_cutoffs_table",
]
