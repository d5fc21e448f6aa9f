"""The HTTP server under :class:`async_app.worker.AiohttpWorker`, one module per lifetime.

- :mod:`.connection`: a connection (aiohttp's protocol subclass);
- :mod:`.cycle`: one request, from parsed head to written response;
- :mod:`.environ`: the PEP 3333 environ (proxy trust, ``SCRIPT_NAME``...);
- :mod:`.request_body`: reading the request body into ``wsgi.input``;
- :mod:`.response`: ``start_response``, framing, keep-alive, writing;
- :mod:`.pump`: response bodies from a pool thread to the loop;
- :mod:`.malloc`: glibc's mmap threshold, fixed when a worker starts.

The process (loop, signals, accepting, shutdown) is :mod:`async_app.worker`.
"""
