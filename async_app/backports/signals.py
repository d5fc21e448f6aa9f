"""``Signal.asend`` / ``asend_robust`` and async receivers (Django 5.0).

``asend()`` runs the sync receivers together in one view-pool call and the
``async def`` receivers concurrently on the loop (``asyncio.gather``).
``send()``/``send_robust()`` are Django 1.11's own until an ``async def``
receiver connects to the signal; from then on that signal's call sync
receivers as Django 1.11 does and run the async ones, which 1.11 would have
left as unawaited coroutines, after them with one ``async_to_sync`` call, as
Django 5.0 does.
"""

import asyncio
import logging
import types

from ..sync import run_coroutine
from .coroutines import iscoroutinefunction, run_in_pool

__all__ = ["install_signal"]

logger = logging.getLogger("django.dispatch")


def _split_receivers(signal, sender):
    sync_receivers, async_receivers = [], []
    for receiver in signal._live_receivers(sender):
        (async_receivers if iscoroutinefunction(receiver) else sync_receivers).append(receiver)
    return sync_receivers, async_receivers


def _no_receivers(signal, sender):
    from django.dispatch.dispatcher import NO_RECEIVERS

    return not signal.receivers or signal.sender_receivers_cache.get(sender) is NO_RECEIVERS


def _log_robust_failure(receiver, err):
    logger.error(
        "Error calling %s in Signal.send_robust() (%s)",
        getattr(receiver, "__qualname__", repr(receiver)),
        err,
        exc_info=err,
    )


async def _wrap_exception(signal, receiver, sender, named):
    try:
        return await receiver(signal=signal, sender=sender, **named)
    except asyncio.CancelledError:
        raise
    except Exception as err:
        _log_robust_failure(receiver, err)
        return err


def _call_sync(signal, receivers, sender, named, robust, log=True):
    responses = []
    for receiver in receivers:
        if not robust:
            responses.append((receiver, receiver(signal=signal, sender=sender, **named)))
            continue
        try:
            response = receiver(signal=signal, sender=sender, **named)
        except Exception as err:
            if log:
                _log_robust_failure(receiver, err)
            responses.append((receiver, err))
        else:
            responses.append((receiver, response))
    return responses


async def _gather(signal, receivers, sender, named, robust):
    if robust:
        calls = (_wrap_exception(signal, r, sender, named) for r in receivers)
    else:
        calls = (r(signal=signal, sender=sender, **named) for r in receivers)
    return list(zip(receivers, await asyncio.gather(*calls)))


async def _asend(signal, sender, named, robust):
    if _no_receivers(signal, sender):
        return []
    sync_receivers, async_receivers = _split_receivers(signal, sender)

    async def sync_send():
        if not sync_receivers:
            return []
        return await run_in_pool(_call_sync)(signal, sync_receivers, sender, named, robust)

    responses, async_responses = await asyncio.gather(
        sync_send(), _gather(signal, async_receivers, sender, named, robust)
    )
    return responses + async_responses


async def asend(self, sender, **named):
    """Send the signal from a coroutine (Django 5.0); returns ``[(receiver, response), ...]``.

    Sync receivers run together in the view pool, async receivers
    concurrently; an exception propagates.
    """
    return await _asend(self, sender, named, robust=False)


async def asend_robust(self, sender, **named):
    """``asend()`` that returns a receiver's exception as its response (Django 5.0)."""
    return await _asend(self, sender, named, robust=True)


def install_signal(dispatcher):
    """Add ``asend``/``asend_robust`` and async receivers to ``Signal`` (idempotent)."""
    Signal = dispatcher.Signal
    if Signal.__dict__.get("_async_app_backport"):  # not inherited: each class once
        return
    sync_send = Signal.send
    sync_send_robust = Signal.send_robust

    sync_connect = Signal.connect

    def with_async_receivers(sync_method, robust):
        def method(self, sender, **named):
            receivers = self._live_receivers(sender)
            async_receivers = [r for r in receivers if iscoroutinefunction(r)]
            if async_receivers:
                receivers = [r for r in receivers if not iscoroutinefunction(r)]
            # Sync receivers exactly as Django 1.11 calls them (send_robust()
            # logs nothing there); async ones after them.
            responses = _call_sync(self, receivers, sender, named, robust, log=False)
            if async_receivers:
                responses += run_coroutine(_gather(self, async_receivers, sender, named, robust))
            return responses

        method.__name__ = sync_method.__name__
        method.__doc__ = sync_method.__doc__
        return method

    async_send = with_async_receivers(sync_send, robust=False)
    async_send_robust = with_async_receivers(sync_send_robust, robust=True)

    def connect(self, receiver, sender=None, weak=True, dispatch_uid=None):
        if (
            iscoroutinefunction(receiver)
            and "send" not in self.__dict__
            and type(self).send is sync_send
        ):  # a subclass's own send() stays its own
            # From now on this signal's send()/send_robust() also run async
            # receivers; until then they are Django 1.11's own, at its cost.
            self.send = types.MethodType(async_send, self)
            self.send_robust = types.MethodType(async_send_robust, self)
        return sync_connect(self, receiver, sender, weak, dispatch_uid)

    connect.__name__ = "connect"
    connect.__doc__ = sync_connect.__doc__

    Signal.connect = connect
    Signal.asend = asend
    Signal.asend_robust = asend_robust
    Signal._async_app_backport = True
