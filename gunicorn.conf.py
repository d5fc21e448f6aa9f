"""gunicorn configuration for montage: ``gunicorn -c gunicorn.conf.py`` (``make run``).

``$PORT`` (default 8000) picks the loopback port; ``$BIND`` overrides the
whole address (``0.0.0.0:8000``, ``unix:/run/montage.sock``). ``$WORKERS``
sets the number of worker processes (default 1) and ``$THREADS`` the size of
each worker's pool for sync views (default 16).
"""

import os

bind = [os.environ.get("BIND") or "127.0.0.1:%s" % os.environ.get("PORT", "8000")]
wsgi_app = "montage.wsgi:application"

# async_app's gunicorn worker on aiohttp 3: coroutine views on the event
# loop, sync views in a pool of ``threads`` threads.
worker_class = "async_app.worker.AiohttpWorker"
workers = int(os.environ.get("WORKERS", "1"))
threads = int(os.environ.get("THREADS", "16"))
worker_connections = 1000
keepalive = 5
timeout = 30
graceful_timeout = 30

accesslog = "-"
errorlog = "-"

# gunicorn 25+ opens a control socket shared by every gunicorn of the user;
# montage does not use it (older gunicorns ignore this unknown setting).
control_socket_disable = True
