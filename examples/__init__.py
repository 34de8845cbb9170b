"""The example services: one small users API written for FastAPI, Flask and Django.

See ``examples/README.md`` for the environment variables and the commands that start each
service under a real server.
"""
