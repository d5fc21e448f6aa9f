"""Live caption editing on ``/photos/<id>/``: presence and drafts over a WebSocket.

Everyone with the photo page open is an *editor*, named by their session
(their username when logged in, else a guest name the page gave the session).
``/photos/<id>/live/`` is a WebSocket view: it refuses a session that never
opened the page (403), then relays, as JSON messages:

* browser -> server: ``{"type": "caption", "caption": "..."}`` while typing;
* server -> browser: ``{"type": "presence", "editors": [...], "you": name}``
  whenever someone comes or goes, and ``{"type": "caption", "caption": ...,
  "editor": name}`` for someone else's draft.

Messages cross workers (and hosts) on the ``async_app.pubsub`` channel
``montage.photo.<id>``, so two people on two workers see each other. Presence
is built from ``join``/``here``/``leave`` messages: a newcomer announces
itself and everyone present answers ``here``.
"""

import asyncio
import json
import uuid

from django.http import Http404, HttpResponseForbidden

import async_app
from async_app import pubsub
from async_app.websocket import WebSocketClosed, accept_websocket

from .models import Photo

#: The session key holding the editor's name.
EDITOR_SESSION_KEY = "montage_editor"
#: The largest message a browser may send (a caption is at most 200 characters).
MAX_MESSAGE_SIZE = 4096


def editor_name(request):
    """The editor's name for this session, given once (a username or a guest name)."""
    name = request.session.get(EDITOR_SESSION_KEY)
    if not name:
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated:
            name = user.get_username()
        else:
            name = "guest-%s" % uuid.uuid4().hex[:4]
        request.session[EDITOR_SESSION_KEY] = name
    return name


def channel_for(pk):
    """The pub/sub channel of one photo's page."""
    return "montage.photo.%d" % int(pk)


async def photo_live(request, pk):
    """``/photos/<id>/live/``: the WebSocket of the photo page (see the module doc)."""
    editor = request.session.get(EDITOR_SESSION_KEY)
    if not editor:
        return HttpResponseForbidden("Open the photo page first.")
    if not await async_app.database_sync_to_async(Photo.objects.filter(pk=pk).exists)():
        raise Http404("No such photo")
    ws = await accept_websocket(request, max_message_size=MAX_MESSAGE_SIZE)
    channel = channel_for(pk)
    me = uuid.uuid4().hex
    editors = {me: editor}
    async with pubsub.subscribe(channel) as subscription:
        await pubsub.publish(channel, {"type": "join", "conn": me, "editor": editor})
        await _send_presence(ws, editors, editor)
        relay = asyncio.ensure_future(_to_browser(ws, subscription, channel, me, editors))
        try:
            await _from_browser(ws, channel, me, editor)
        finally:
            relay.cancel()
            await asyncio.wait([relay])
            if not relay.cancelled() and relay.exception() is not None:
                raise relay.exception()
            await pubsub.publish(channel, {"type": "leave", "conn": me})
    return ws.response


async def _from_browser(ws, channel, me, editor):
    """Publish the browser's drafts until the socket closes."""
    async for message in ws:
        try:
            data = json.loads(message)
        except ValueError:
            await ws.close(1003, "JSON expected")
            return
        if isinstance(data, dict) and data.get("type") == "caption":
            caption = str(data.get("caption", ""))[: Photo._meta.get_field("caption").max_length]
            await pubsub.publish(
                channel, {"type": "caption", "conn": me, "editor": editor, "caption": caption}
            )


async def _to_browser(ws, subscription, channel, me, editors):
    """Forward the others' drafts and keep the presence list, until cancelled."""
    try:
        async for message in subscription:
            conn = message.get("conn")
            if conn == me:
                continue
            kind = message.get("type")
            if kind == "caption":
                await ws.send_json(
                    {"type": "caption", "caption": message["caption"], "editor": message["editor"]}
                )
                continue
            if kind == "join":
                await pubsub.publish(channel, {"type": "here", "conn": me, "editor": editors[me]})
            if kind in ("join", "here"):
                editors[conn] = message["editor"]
            elif kind == "leave":
                editors.pop(conn, None)
            else:
                continue
            await _send_presence(ws, editors, editors[me])
    except WebSocketClosed:
        return


async def _send_presence(ws, editors, you):
    await ws.send_json({"type": "presence", "editors": sorted(set(editors.values())), "you": you})
