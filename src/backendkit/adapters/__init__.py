"""Thin adapters that plug backendkit into a web framework.

Each adapter only translates between its framework and the framework-free core in
[`backendkit.web`][backendkit.web]; importing one without its framework installed raises a
[`MissingDependencyError`][backendkit.errors.MissingDependencyError] naming the extra.

- [`backendkit.adapters.fastapi`][backendkit.adapters.fastapi]
  (``pip install 'backendkit[fastapi]'``)
- [`backendkit.adapters.flask`][backendkit.adapters.flask] (``pip install 'backendkit[flask]'``)
"""

__all__: list[str] = []
