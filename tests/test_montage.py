"""montage, the demo: its own suite under both handlers, over gunicorn, in a browser.

* montage's Django test suite (``montage/manage.py test``) runs in
  subprocesses under Django's stock ``WSGIHandler`` and under
  ``AsyncDjangoApplication``; the same tests must pass in both, except the
  ones marked as needing the async handler (coroutine views), which must pass
  under it, be skipped under the stock handler with the stated reason, and
  really fail there when forced to run.
* End to end: ``gunicorn -c gunicorn.conf.py`` serves montage on a free port
  with a temporary database and media directory; over real HTTP a generated
  image is uploaded, shows on ``/``, makes ``/montage.jpg`` and is announced
  on ``/events/``.
* In a browser: headless Chromium (Debian's ``chromium``, installed when
  missing) uploads an image through the form and sees it in the gallery; the
  screenshot goes to ``test-artifacts/``.
"""

import asyncio
import base64
import contextlib
import io
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import uuid

import aiohttp
import pytest
from PIL import Image

from tests.gunicorn_fixture import free_port

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
MANAGE = os.path.join(REPO, "montage", "manage.py")
ARTIFACTS = os.path.join(REPO, "test-artifacts")

# Same text as montage.testrunner.ASYNC_ONLY_REASON (not imported: this
# process has Django configured for another project).
ASYNC_ONLY_REASON = (
    "coroutine view: runs only under AsyncDjangoApplication (Django's WSGIHandler cannot await it)"
)


def montage_env(**extra):
    """This process's environment, set up for the montage project."""
    env = dict(os.environ)
    env["DJANGO_SETTINGS_MODULE"] = "montage.settings"
    env["PYTHONPATH"] = os.pathsep.join(p for p in (REPO, env.get("PYTHONPATH")) if p)
    env.update(extra)
    return env


# --------------------------------------------------------------------------
# montage's own suite, twice


@pytest.fixture(scope="module")
def suite_runs(tmp_path_factory):
    """Run montage's suite three ways at once; return {run: (returncode, output, report)}.

    ``wsgi`` and ``async`` are the two handlers; ``forced`` is the stock
    handler with the async-only tests forced to run.
    """
    tmp = tmp_path_factory.mktemp("montage-suite")
    runs = {
        "wsgi": {"MONTAGE_TEST_HANDLER": "wsgi"},
        "async": {"MONTAGE_TEST_HANDLER": "async"},
        "forced": {"MONTAGE_TEST_HANDLER": "wsgi", "MONTAGE_TEST_RUN_ASYNC_ONLY": "1"},
    }
    processes = {}
    for name, extra in runs.items():
        report = str(tmp / ("%s.json" % name))
        log = open(str(tmp / ("%s.log" % name)), "w+")
        env = montage_env(MONTAGE_TEST_REPORT=report)
        env.pop("MONTAGE_TEST_RUN_ASYNC_ONLY", None)
        env.update(extra)
        process = subprocess.Popen(
            [sys.executable, MANAGE, "test", "--noinput", "-v", "2"],
            cwd=REPO,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        processes[name] = (process, log, report)
    results = {}
    for name, (process, log, report) in processes.items():
        try:
            returncode = process.wait(timeout=600)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
            returncode = "timeout"
        log.seek(0)
        output = log.read()
        log.close()
        tests = {}
        if os.path.exists(report):
            with open(report) as handle:
                data = json.load(handle)
            assert data["handler"] == runs[name]["MONTAGE_TEST_HANDLER"]
            tests = data["tests"]
        results[name] = (returncode, output, tests)
    return results


def outcomes(tests, outcome):
    """The ids of the tests that ended with ``outcome``."""
    return {test for test, result in tests.items() if result["outcome"] == outcome}


def test_suite_passes_under_stock_wsgi_handler(suite_runs):
    returncode, output, tests = suite_runs["wsgi"]
    assert returncode == 0, output
    skipped = outcomes(tests, "skipped")
    assert outcomes(tests, "passed") | skipped == set(tests), output
    for test in skipped:
        assert tests[test]["detail"] == ASYNC_ONLY_REASON, (test, tests[test])
    print(
        "stock WSGIHandler: %d passed, %d skipped as coroutine-view tests"
        % (len(tests) - len(skipped), len(skipped))
    )


def test_suite_passes_under_async_handler(suite_runs):
    returncode, output, tests = suite_runs["async"]
    assert returncode == 0, output
    assert "montage tests: async handler" in output
    assert len(tests) >= 60, output
    assert outcomes(tests, "passed") == set(tests), output
    print("AsyncDjangoApplication: all %d passed" % len(tests))


def test_same_tests_pass_where_the_views_are_the_same(suite_runs):
    wsgi, async_ = suite_runs["wsgi"][2], suite_runs["async"][2]
    assert set(wsgi) == set(async_)
    async_only = outcomes(wsgi, "skipped")
    shared = set(wsgi) - async_only
    assert outcomes(wsgi, "passed") == shared
    assert outcomes(async_, "passed") >= shared | async_only
    # Both halves are substantial: views of both kinds are really tested.
    assert len(shared) >= 40 and len(async_only) >= 20, (len(shared), len(async_only))
    assert any(".test_views_sync." in test for test in shared)
    assert all(".test_views_async." in test for test in async_only), sorted(async_only)


def test_suite_passes_on_postgresql(postgres_server, tmp_path):
    """montage's suite, async handler, on PostgreSQL (``DATABASE_URL``; psycopg2 2.9, USE_TZ)."""
    postgres_server.psql("DROP DATABASE IF EXISTS montage_suite", dbname="postgres")
    postgres_server.psql("CREATE DATABASE montage_suite", dbname="postgres")
    report = str(tmp_path / "pg.json")
    env = montage_env(
        MONTAGE_TEST_HANDLER="async",
        MONTAGE_TEST_REPORT=report,
        DATABASE_URL=postgres_server.url.rsplit("/", 1)[0] + "/montage_suite",
    )
    env.pop("MONTAGE_TEST_RUN_ASYNC_ONLY", None)
    proc = subprocess.run(
        [sys.executable, MANAGE, "test", "--noinput", "-v", "2"],
        cwd=REPO,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        universal_newlines=True,
        timeout=600,
    )
    assert proc.returncode == 0, proc.stdout
    assert "Creating test database for alias 'default' ('test_montage_suite')" in proc.stdout
    with open(report) as handle:
        tests = json.load(handle)["tests"]
    assert len(tests) >= 60, proc.stdout
    assert outcomes(tests, "passed") == set(tests), proc.stdout
    print("AsyncDjangoApplication on PostgreSQL: all %d passed" % len(tests))


def test_async_only_labels_are_true(suite_runs):
    """Each test skipped under the stock handler really fails there."""
    returncode, output, forced = suite_runs["forced"]
    async_only = outcomes(suite_runs["wsgi"][2], "skipped")
    assert returncode != 0
    assert set(forced) == set(suite_runs["wsgi"][2])
    failed = outcomes(forced, "failed") | outcomes(forced, "error")
    assert failed == async_only, output
    assert outcomes(forced, "passed") == set(forced) - async_only


# --------------------------------------------------------------------------
# DATABASE_URL


def test_database_url_names_a_postgresql_database():
    from montage.settings import database_from_url

    assert database_from_url("postgres://app:s%40cret@db.example:6543/photos?sslmode=require") == {
        "ENGINE": "django.db.backends.postgresql",
        "NAME": "photos",
        "USER": "app",
        "PASSWORD": "s@cret",
        "HOST": "db.example",
        "PORT": "6543",
        "OPTIONS": {"sslmode": "require"},
    }
    entry = database_from_url("postgresql://me@127.0.0.1/montage")
    assert (entry["USER"], entry["PASSWORD"], entry["HOST"], entry["PORT"]) == (
        "me",
        "",
        "127.0.0.1",
        "",
    )
    assert database_from_url("postgres://u@[::1]:5433/m")["HOST"] == "::1"
    # A socket directory, quoted; its case survives.
    assert database_from_url("postgres://u@%2FRun%2Fpostgresql/m")["HOST"] == "/Run/postgresql"
    with pytest.raises(ValueError):
        database_from_url("mysql://u@h/m")
    with pytest.raises(ValueError):
        database_from_url("postgres://u@h/")


def test_settings_default_to_sqlite_without_database_url():
    code = (
        "import json, montage.settings as s; "
        "print(json.dumps([s.DATABASES['default']['ENGINE'], s.DATABASES['default']['NAME']]))"
    )
    for value in (None, "", "  "):
        env = montage_env(MONTAGE_DB="/tmp/x.sqlite3")
        env.pop("DATABASE_URL", None)
        if value is not None:
            env["DATABASE_URL"] = value
        out = subprocess.check_output([sys.executable, "-c", code], cwd=REPO, env=env)
        assert json.loads(out.decode()) == ["django.db.backends.sqlite3", "/tmp/x.sqlite3"]
    env = montage_env(DATABASE_URL="postgres://u@h:1/m")
    out = subprocess.check_output([sys.executable, "-c", code], cwd=REPO, env=env)
    assert json.loads(out.decode()) == ["django.db.backends.postgresql", "m"]


# --------------------------------------------------------------------------
# a real gunicorn


GUNICORN_CONF = "gunicorn.conf.py"


class MontageServer:
    """``gunicorn -c gunicorn.conf.py`` serving montage with its own database and media."""

    def __init__(self, directory, **env):
        self.directory = directory
        self.port = free_port()
        self.url = "http://127.0.0.1:%d" % self.port
        self.log_path = os.path.join(directory, "gunicorn.log")
        self.env = montage_env(
            MONTAGE_DB=os.path.join(directory, "db.sqlite3"),
            MONTAGE_MEDIA_ROOT=os.path.join(directory, "media"),
            BIND="127.0.0.1:%d" % self.port,
            PORT=str(self.port),
            # One worker: /events/ hears what its own worker processed.
            WORKERS="1",
            PYTHONUNBUFFERED="1",
            **env,
        )
        self.process = None

    def start(self, timeout=60):
        """Migrate the database, start gunicorn and wait until it answers."""
        subprocess.check_call(
            [sys.executable, MANAGE, "migrate", "--noinput", "-v", "0"], cwd=REPO, env=self.env
        )
        self.log = open(self.log_path, "w")
        self.process = subprocess.Popen(
            [sys.executable, "-m", "gunicorn", "-c", GUNICORN_CONF],
            cwd=REPO,
            env=self.env,
            stdout=self.log,
            stderr=subprocess.STDOUT,
        )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise AssertionError(
                    "gunicorn exited with %s:\n%s" % (self.process.returncode, self.output())
                )
            try:
                with contextlib.closing(socket.create_connection(("127.0.0.1", self.port), 0.5)):
                    return self
            except OSError:
                time.sleep(0.1)
        raise AssertionError("gunicorn did not listen within %ss:\n%s" % (timeout, self.output()))

    def output(self):
        """What gunicorn logged so far."""
        with open(self.log_path) as handle:
            return handle.read()

    def stop(self):
        """Stop gunicorn (SIGTERM, then SIGKILL after 15 s)."""
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self.log.close()


@pytest.fixture
def montage_server(tmp_path):
    """A started :class:`MontageServer`; its log is printed when the test ends."""
    server = MontageServer(str(tmp_path)).start()
    try:
        yield server
    finally:
        server.stop()
        print("---- gunicorn log ----\n" + server.output())


def png_bytes(color, size=(400, 300)):
    """A generated PNG."""
    out = io.BytesIO()
    Image.new("RGB", size, color).save(out, "PNG")
    return out.getvalue()


def open_image(data):
    """Pillow image from bytes, fully decoded (fails on a broken file)."""
    image = Image.open(io.BytesIO(data))
    image.load()
    return image


async def read_event(response, wanted, timeout=10):
    """Read server-sent events from ``response`` until one matches ``wanted(event, data)``."""
    deadline = time.monotonic() + timeout
    event = None
    while True:
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            raise AssertionError("no matching server-sent event within %ss" % timeout)
        line = await asyncio.wait_for(response.content.readline(), remaining)
        if not line:
            raise AssertionError("the event stream ended")
        line = line.decode("utf-8").rstrip("\r\n")
        if line.startswith("event: "):
            event = line[len("event: ") :]
        elif line.startswith("data: "):
            data = json.loads(line[len("data: ") :])
            if wanted(event, data):
                return event, data


def http_session():
    """An aiohttp session that keeps cookies (the CSRF cookie) for IP-address hosts."""
    return aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True))


async def upload(session, base, data, caption):
    """Upload ``data`` through the form on ``/``, as a browser would (CSRF token included)."""
    async with session.get(base + "/") as response:
        page = await response.text()
        assert response.status == 200
    token = re.search(r"name='csrfmiddlewaretoken' value='([^']+)'", page).group(1)
    form = aiohttp.FormData()
    form.add_field("csrfmiddlewaretoken", token)
    form.add_field("caption", caption)
    form.add_field("image", data, filename="upload.png", content_type="image/png")
    async with session.post(base + "/upload/", data=form, allow_redirects=False) as response:
        assert response.status == 302, await response.text()
        assert response.headers["Location"] == "/"


def run(coro):
    """Run ``coro`` on a fresh event loop."""
    loop = asyncio.new_event_loop()
    try:
        return loop.run_until_complete(coro)
    finally:
        loop.close()


@pytest.fixture
def montage_server_on_postgresql(tmp_path, postgres_server):
    """A started :class:`MontageServer` whose ``DATABASE_URL`` names a fresh PostgreSQL database."""
    postgres_server.psql("DROP DATABASE IF EXISTS montage_e2e", dbname="postgres")
    postgres_server.psql("CREATE DATABASE montage_e2e", dbname="postgres")
    url = postgres_server.url.rsplit("/", 1)[0] + "/montage_e2e"
    server = MontageServer(str(tmp_path), DATABASE_URL=url).start()
    try:
        yield server
    finally:
        server.stop()
        print("---- gunicorn log ----\n" + server.output())
    # montage's tables really went to PostgreSQL.
    assert postgres_server.psql("SELECT count(*) FROM photos_photo", dbname="montage_e2e") == "1"
    postgres_server.psql("DROP DATABASE montage_e2e", dbname="postgres")


def test_end_to_end_over_gunicorn(montage_server):
    end_to_end(montage_server)


def test_end_to_end_over_gunicorn_on_postgresql(montage_server_on_postgresql):
    end_to_end(montage_server_on_postgresql)


def end_to_end(montage_server):
    """Over real HTTP: upload, the upload event, the gallery, thumbnail, montage, detail page."""
    base = montage_server.url
    caption = "e2e-%s" % uuid.uuid4().hex[:8]

    async def scenario():
        async with http_session() as session:
            async with session.get(base + "/hello/?delay=0") as response:
                assert (response.status, await response.text()) == (200, "Hello world!")

            events = await session.get(base + "/events/", timeout=aiohttp.ClientTimeout(total=None))
            assert events.status == 200
            assert events.headers["Content-Type"] == "text/event-stream"
            assert await asyncio.wait_for(events.content.readline(), 10) == b"retry: 3000\n"
            assert await asyncio.wait_for(events.content.readline(), 10) == b": connected\n"

            await upload(session, base, png_bytes((20, 160, 220)), caption)

            event, photo = await read_event(
                events, lambda event, data: data.get("caption") == caption
            )
            events.close()
            assert event == "upload"
            assert (photo["type"], photo["width"], photo["height"]) == ("upload", 400, 300)

            async with session.get(base + "/") as response:
                page = await response.text()
            assert caption in page
            assert 'src="%s"' % photo["thumbnail"] in page

            async with session.get(base + photo["thumbnail"]) as response:
                assert response.status == 200
                thumbnail = open_image(await response.read())
            assert (thumbnail.format, thumbnail.size) == ("JPEG", (240, 240))

            async with session.get(base + "/montage.jpg") as response:
                assert response.status == 200
                assert response.headers["Content-Type"] == "image/jpeg"
                montage = open_image(await response.read())
            assert (montage.format, montage.size) == (
                "JPEG",
                (256, 256),
            )  # one tile and its margins
            r, g, b = montage.convert("RGB").getpixel((128, 128))
            assert abs(r - 20) < 16 and abs(g - 160) < 16 and abs(b - 220) < 16, (r, g, b)

            async with session.get(base + photo["url"]) as response:
                assert response.status == 200
                assert caption in await response.text()

    run(scenario())


# --------------------------------------------------------------------------
# a real browser

CHROMIUM = "/usr/bin/chromium"


def ensure_chromium():
    """Path of Debian's Chromium, installing the package when missing (fails if it cannot)."""
    path = shutil.which("chromium") or (CHROMIUM if os.path.exists(CHROMIUM) else None)
    if path:
        return path
    if not hasattr(os, "geteuid") or os.geteuid() != 0 or not shutil.which("apt-get"):
        pytest.fail(
            "The browser test needs Debian's chromium package, which is missing, and this "
            "process cannot install it (needs root and apt-get). Install it: apt-get install -y chromium"
        )
    env = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
    for command in (["apt-get", "update"], ["apt-get", "install", "-y", "chromium"]):
        done = subprocess.run(
            command, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=1200
        )
        if done.returncode != 0:
            pytest.fail(
                "Could not install chromium for the browser test: `%s` exited with %d:\n%s"
                % (
                    " ".join(command),
                    done.returncode,
                    done.stdout.decode("utf-8", "replace")[-3000:],
                )
            )
    if not os.path.exists(CHROMIUM):
        pytest.fail("apt-get installed chromium but %s does not exist" % CHROMIUM)
    return CHROMIUM


class DevTools:
    """A minimal Chrome DevTools protocol client over aiohttp's websocket."""

    def __init__(self, websocket):
        self.websocket = websocket
        self.next_id = 0
        self.events = []

    async def _receive(self, timeout):
        message = await asyncio.wait_for(self.websocket.receive(), timeout)
        if message.type != aiohttp.WSMsgType.TEXT:
            raise AssertionError("DevTools connection ended: %r" % (message,))
        return json.loads(message.data)

    async def send(self, method, timeout=30, **params):
        """Call ``method`` and return its result."""
        self.next_id += 1
        call_id = self.next_id
        await self.websocket.send_json({"id": call_id, "method": method, "params": params})
        while True:
            message = await self._receive(timeout)
            if message.get("id") == call_id:
                if "error" in message:
                    raise AssertionError("%s failed: %s" % (method, message["error"]))
                return message.get("result", {})
            if "method" in message:
                self.events.append(message)

    async def wait_for_event(self, method, timeout=30):
        """Return the next ``method`` event (or one received already)."""
        for index, message in enumerate(self.events):
            if message["method"] == method:
                return self.events.pop(index)
        deadline = time.monotonic() + timeout
        while True:
            message = await self._receive(max(0.01, deadline - time.monotonic()))
            if message.get("method") == method:
                return message
            if "method" in message:
                self.events.append(message)

    async def evaluate(self, expression):
        """The value of a JavaScript expression in the page."""
        result = await self.send(
            "Runtime.evaluate", expression=expression, returnByValue=True, awaitPromise=True
        )
        if "exceptionDetails" in result:
            raise AssertionError("JavaScript failed: %s" % result["exceptionDetails"])
        return result["result"].get("value")


@contextlib.contextmanager
def headless_chromium(path, directory):
    """Start headless Chromium with remote debugging; yield its DevTools HTTP address."""
    profile = tempfile.mkdtemp(prefix="chromium-profile-", dir=directory)
    log_path = os.path.join(directory, "chromium.log")
    log = open(log_path, "w")
    process = subprocess.Popen(
        [
            path,
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--disable-dev-shm-usage",
            "--user-data-dir=" + profile,
            "--remote-debugging-address=127.0.0.1",
            "--remote-debugging-port=0",
            "--window-size=1200,1000",
            "about:blank",
        ],
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    try:
        deadline = time.monotonic() + 60
        address = None
        while address is None:
            with open(log_path) as handle:
                found = re.search(r"DevTools listening on ws://([^/\s]+)/", handle.read())
            if found:
                address = found.group(1)
            elif process.poll() is not None or time.monotonic() > deadline:
                with open(log_path) as handle:
                    pytest.fail(
                        "Chromium did not start (exit %s):\n%s"
                        % (process.poll(), handle.read()[-3000:])
                    )
            else:
                time.sleep(0.1)
        yield "http://" + address
    finally:
        process.terminate()
        try:
            process.wait(10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        log.close()


@pytest.mark.skipif(
    sys.version_info[:2] != (3, 11) and not (shutil.which("chromium") or os.path.exists(CHROMIUM)),
    reason="the browser test runs on Python 3.11 (CI's `make test`, installing chromium if "
    "missing) and on other Pythons where chromium is installed",
)
def test_browser_uploads_through_the_form(montage_server, tmp_path):
    chromium = ensure_chromium()
    caption = "browser-%s" % uuid.uuid4().hex[:8]
    image_path = str(tmp_path / "browser-upload.png")
    with open(image_path, "wb") as handle:
        handle.write(png_bytes((240, 150, 30), (800, 600)))
    os.makedirs(ARTIFACTS, exist_ok=True)
    screenshot_path = os.path.join(
        ARTIFACTS, "montage-browser-upload-py%d.%d.png" % sys.version_info[:2]
    )

    async def scenario(devtools_url):
        async with aiohttp.ClientSession() as session:
            async with session.get(devtools_url + "/json/list") as response:
                targets = await response.json(content_type=None)
            page = next(t for t in targets if t["type"] == "page")
            async with session.ws_connect(
                page["webSocketDebuggerUrl"], max_msg_size=0
            ) as websocket:
                tools = DevTools(websocket)
                await tools.send("Page.enable")
                await tools.send("Runtime.enable")
                await tools.send("Page.navigate", url=montage_server.url + "/")
                await tools.wait_for_event("Page.loadEventFired")
                assert await tools.evaluate("document.title") == "Gallery · montage"
                assert (
                    await tools.evaluate("document.querySelectorAll('#gallery li.photo').length")
                    == 0
                )

                document = await tools.send("DOM.getDocument")
                node = await tools.send(
                    "DOM.querySelector", nodeId=document["root"]["nodeId"], selector="#id_image"
                )
                await tools.send("DOM.setFileInputFiles", files=[image_path], nodeId=node["nodeId"])
                tools.events = []
                await tools.evaluate(
                    "document.getElementById('id_caption').value = %s;"
                    "document.getElementById('upload-submit').click(); true" % json.dumps(caption)
                )
                await tools.wait_for_event("Page.loadEventFired")

                # Back on the gallery, the new photo's thumbnail is shown.
                found = None
                deadline = time.monotonic() + 15
                while time.monotonic() < deadline:
                    found = await tools.evaluate(
                        """(() => {
                            const item = [...document.querySelectorAll('#gallery li.photo')]
                                .find(li => li.textContent.includes(%s));
                            if (!item) return null;
                            const img = item.querySelector('img');
                            return {path: location.pathname, complete: img.complete,
                                    width: img.naturalWidth, height: img.naturalHeight};
                        })()"""
                        % json.dumps(caption)
                    )
                    if found and found["complete"] and found["width"]:
                        break
                    await asyncio.sleep(0.2)
                assert found == {"path": "/", "complete": True, "width": 240, "height": 240}, found
                # The stylesheet applied (the site looks like itself, not bare HTML).
                assert (
                    await tools.evaluate(
                        "getComputedStyle(document.querySelector('header.site')).backgroundColor"
                    )
                    == "rgb(34, 34, 34)"
                )

                # Live: a photo uploaded elsewhere appears without a reload,
                # through /events/ and live.js.
                await tools.evaluate("window.montageTestMarker = 1")
                live_caption = caption + "-live"
                async with http_session() as other:
                    await upload(other, montage_server.url, png_bytes((90, 30, 160)), live_caption)
                live = None
                deadline = time.monotonic() + 15
                while time.monotonic() < deadline and not (live and live["width"]):
                    await asyncio.sleep(0.2)
                    live = await tools.evaluate(
                        """(() => {
                            const item = document.querySelector('#gallery li.photo');
                            const img = item.querySelector('img');
                            return {caption: item.textContent.trim(), fresh: item.classList.contains('fresh'),
                                    width: img.naturalWidth, marker: window.montageTestMarker || 0,
                                    count: document.getElementById('photo-count').textContent};
                        })()"""
                    )
                assert live == {
                    "caption": live_caption,
                    "fresh": True,
                    "width": 240,
                    "marker": 1,
                    "count": "2",
                }, live

                shot = await tools.send("Page.captureScreenshot", format="png")
                with open(screenshot_path, "wb") as handle:
                    handle.write(base64.b64decode(shot["data"]))

    with headless_chromium(chromium, str(tmp_path)) as devtools_url:
        run(scenario(devtools_url))
    screenshot = open_image(open(screenshot_path, "rb").read())
    assert screenshot.format == "PNG" and screenshot.size[0] >= 800
    print("screenshot: %s" % screenshot_path)


async def poll(tools, expression, wanted, timeout=15):
    """Evaluate ``expression`` until ``wanted(value)``; return the last value."""
    deadline = time.monotonic() + timeout
    value = None
    while time.monotonic() < deadline:
        value = await tools.evaluate(expression)
        if wanted(value):
            return value
        await asyncio.sleep(0.1)
    return value


LIVE_STATE = """(() => ({
    count: document.getElementById('live-editors').getAttribute('data-count'),
    names: document.getElementById('editor-names').textContent,
    caption: document.getElementById('id_caption').value,
    status: document.getElementById('caption-status').textContent,
    me: document.querySelector('script[data-editor]').getAttribute('data-editor'),
}))()"""


@pytest.mark.skipif(
    sys.version_info[:2] != (3, 11) and not (shutil.which("chromium") or os.path.exists(CHROMIUM)),
    reason="the browser test runs on Python 3.11 (CI's `make test`, installing chromium if "
    "missing) and on other Pythons where chromium is installed",
)
# Chromium with two browser contexts and gunicorn: on CI's budget, `make test`
# (3.11) and the matrix's cluster Python (3.7) run it.
@pytest.mark.cluster
def test_browser_two_pages_edit_a_caption_live(montage_server, tmp_path):
    """Two people (two browser contexts, two sessions) on one photo page see each other live."""
    chromium = ensure_chromium()
    os.makedirs(ARTIFACTS, exist_ok=True)
    screenshot_path = os.path.join(
        ARTIFACTS, "montage-live-caption-py%d.%d.png" % sys.version_info[:2]
    )

    async def scenario(devtools_url):
        async with http_session() as uploader:
            await upload(uploader, montage_server.url, png_bytes((20, 120, 220)), "live caption")
            async with uploader.get(montage_server.url + "/") as response:
                pk = re.search(r'href="/photos/(\d+)/"', await response.text()).group(1)
        page_url = "%s/photos/%s/" % (montage_server.url, pk)
        async with aiohttp.ClientSession() as session:
            async with session.get(devtools_url + "/json/version") as response:
                browser_ws = (await response.json(content_type=None))["webSocketDebuggerUrl"]
            async with session.ws_connect(browser_ws, max_msg_size=0) as browser_socket:
                browser = DevTools(browser_socket)
                pages = []
                for _ in range(2):  # separate contexts: separate cookies, two editors
                    context = await browser.send("Target.createBrowserContext")
                    target = await browser.send(
                        "Target.createTarget",
                        url=page_url,
                        browserContextId=context["browserContextId"],
                    )
                    pages.append(target["targetId"])
                page_ws = [
                    devtools_url.replace("http://", "ws://") + "/devtools/page/" + target
                    for target in pages
                ]
                async with session.ws_connect(
                    page_ws[0], max_msg_size=0
                ) as first_socket, session.ws_connect(page_ws[1], max_msg_size=0) as second_socket:
                    first, second = DevTools(first_socket), DevTools(second_socket)
                    for tools in (first, second):
                        await tools.send("Runtime.enable")
                    both = lambda state: state and state["count"] == "2"  # noqa: E731
                    state_a = await poll(first, LIVE_STATE, both)
                    state_b = await poll(second, LIVE_STATE, both)
                    assert both(state_a) and both(state_b), (state_a, state_b)
                    assert state_a["me"] != state_b["me"]
                    assert sorted(state_a["names"].split(", ")) == sorted(
                        [state_a["me"], state_b["me"]]
                    )

                    # B types; A sees the draft and who is typing, without a reload.
                    await second.evaluate(
                        "const c = document.getElementById('id_caption'); c.value = 'typed by B';"
                        "c.dispatchEvent(new Event('input')); true"
                    )
                    seen = await poll(first, LIVE_STATE, lambda s: s["caption"] == "typed by B")
                    assert seen["caption"] == "typed by B", seen
                    assert seen["status"] == state_b["me"] + " is editing", seen

                    shot = await first.send("Page.captureScreenshot", format="png")
                    with open(screenshot_path, "wb") as handle:
                        handle.write(base64.b64decode(shot["data"]))

                    # B leaves: A's presence list shrinks to A.
                    await browser.send("Target.closeTarget", targetId=pages[1])
                    alone = await poll(first, LIVE_STATE, lambda s: s["count"] == "1")
                    assert alone["count"] == "1" and alone["names"] == state_a["me"], alone

    with headless_chromium(chromium, str(tmp_path)) as devtools_url:
        run(scenario(devtools_url))
    assert open_image(open(screenshot_path, "rb").read()).format == "PNG"
