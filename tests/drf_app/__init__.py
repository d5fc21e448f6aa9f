"""A small DRF API for tests/test_drf*.py: every coroutine handler kind."""
