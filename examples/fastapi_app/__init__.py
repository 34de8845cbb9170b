"""The users service on FastAPI: async all the way (SQLAlchemy asyncio, async Redis).

Start it under uvicorn (see ``examples/README.md``)::

    uvicorn --factory examples.fastapi_app.main:create_app --no-access-log --no-proxy-headers

or run ``python -m examples.fastapi_app.demo`` for the demo on embedded defaults.
"""
