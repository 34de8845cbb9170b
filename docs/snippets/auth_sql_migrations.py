"""Alembic's env.py: autogenerate compares the database with your tables and backendkit's."""

from sqlalchemy.orm import DeclarativeBase

from backendkit.auth.sql import auth_metadata


class Base(DeclarativeBase):
    """Your models' base."""


target_metadata = [Base.metadata, auth_metadata]  # then: alembic revision --autogenerate
