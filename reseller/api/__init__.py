"""The REST API at ``/api/v1``: JSON in and out, problem+json errors, bearer auth.

Feature packages define their own blueprints; ``register`` nests them under ``api``.
"""
