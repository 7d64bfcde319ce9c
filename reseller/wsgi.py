"""The WSGI entry point of an installed Tunnus: ``gunicorn reseller.wsgi:app``.

Every process of a deployment loads it: gunicorn's workers, and ``flask --app wsgi`` for
``flask worker``, ``flask scheduler`` and the other commands."""

import gc

from reseller.app import create_app

app = create_app()

# What the process built to start (modules, the app, SQLAlchemy's mappers and compiled
# statements: some 230,000 objects) lives as long as it does. Frozen, the cyclic garbage
# collector's full collections stop walking it: 18 ms instead of 180 ms each in a worker,
# and those run while every thread of the process waits (bench/order_profile.py: 0.6 →
# 0.12 ms of collection per order; a request's worst latency loses the long pause).
gc.freeze()
