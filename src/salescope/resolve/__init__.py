"""Identity: normalised keys, deterministic ids at import, probabilistic matching, vetoed clustering.

``normalize`` (keys for names, phones, emails, addresses, tax and ID numbers), ``identity``
(``assign_ids`` for importers), ``features`` / ``linkage`` / ``clusters`` / ``matching`` (entity
resolution with Splink, run by ``salescope.engine.linkage``), ``api`` (``resolve_customers``).
"""
