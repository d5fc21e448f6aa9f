"""The soak and fault suite (``make soak``, ``make soak-ci``): see docs/soak.md.

A Django 1.11 project (``soak.settings``, ``soak.urls``, ``soak.views``)
served by a real gunicorn with ``AiohttpWorker`` over a throwaway PostgreSQL,
driven by an in-repo HTTP/1.1 load generator (``soak.client``,
``soak.load``), with the workers' RSS and file descriptors sampled from
``/proc`` (``soak.probe``) and three faults (``soak.faults``). ``python -m
soak`` runs it all and prints the figures (``soak.run``).
"""
