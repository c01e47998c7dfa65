"""The demo's HTTP server: Python's ``http.server`` serving one plain page
(the package files ``upernet_mm/demo/static/index.html``, ``style.css`` and
``app.js``, nothing from another origin) and a small JSON API over
:class:`~.app.DemoApp`.

Routes: ``GET /`` the page, ``GET /app.js``, ``GET /style.css``,
``GET /api/info``, ``GET /examples/N.png``, ``POST /api/segment?name=FILE``
with the image bytes as the body.
"""
import ipaddress
import json
import socket
import sys
import traceback
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from importlib.resources import files
from urllib.parse import parse_qs, urlsplit

from .app import MAX_UPLOAD_BYTES, DemoApp, DemoInputError

LOCAL_NAMES = ('localhost', '127.0.0.1', '::1')

# the page's files: a fixed list of URL paths, each one file of the
# package's static/ folder (no path from a request reaches the file system)
STATIC_FILES = {
    '/': ('index.html', 'text/html; charset=utf-8'),
    '/index.html': ('index.html', 'text/html; charset=utf-8'),
    '/app.js': ('app.js', 'text/javascript; charset=utf-8'),
    '/style.css': ('style.css', 'text/css; charset=utf-8'),
}


def static_file(name: str) -> bytes:
    """The bytes of the page's file ``name`` (in ``upernet_mm/demo/static``,
    shipped with the package)."""
    return (files(__package__) / 'static' / name).read_bytes()


# the page loads nothing from anywhere else, and nothing may frame it
SECURITY_HEADERS = {
    'Content-Security-Policy':
    "default-src 'none'; script-src 'self'; style-src 'self'; "
    "img-src 'self' data: blob:; connect-src 'self'; "
    "frame-ancestors 'none'; base-uri 'none'; form-action 'none'",
    'X-Content-Type-Options':
    'nosniff',
    'Referrer-Policy':
    'no-referrer',
    'Cache-Control':
    'no-store',
}


def is_loopback(host: str) -> bool:
    if host == 'localhost':
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


class DemoHandler(BaseHTTPRequestHandler):
    server_version = 'upernet_mm-demo'
    protocol_version = 'HTTP/1.1'

    @property
    def app(self) -> DemoApp:
        return self.server.app

    def log_message(self, format, *args):  # noqa: A002  (upstream name)
        if self.server.verbose:
            super().log_message(format, *args)

    def _send(self, status, body: bytes, content_type: str):
        self.send_response(status)
        self.send_header('Content-Type', content_type)
        self.send_header('Content-Length', str(len(body)))
        for key, value in SECURITY_HEADERS.items():
            self.send_header(key, value)
        self.end_headers()
        if self.command != 'HEAD':
            self.wfile.write(body)

    def _json(self, status, obj):
        self._send(status, json.dumps(obj).encode(), 'application/json')

    def _host_allowed(self) -> bool:
        # a server on a loopback address answers only requests addressed
        # to a loopback name, so that a web page elsewhere cannot reach it
        # through a DNS name rebound to 127.0.0.1
        if not is_loopback(self.server.server_address[0]):
            return True
        host = self.headers.get('Host', '')
        name = urlsplit('//' + host).hostname or ''
        return name in LOCAL_NAMES

    def do_GET(self):  # noqa: N802  (http.server's name)
        if not self._host_allowed():
            return self._json(HTTPStatus.FORBIDDEN,
                              dict(error='unexpected Host header'))
        path = urlsplit(self.path).path
        if path in STATIC_FILES:
            name, content_type = STATIC_FILES[path]
            return self._send(HTTPStatus.OK, static_file(name), content_type)
        if path == '/api/info':
            return self._json(HTTPStatus.OK, self.app.info())
        if path.startswith('/examples/') and path.endswith('.png'):
            stem = path[len('/examples/'):-len('.png')]
            if stem.isdigit():
                try:
                    return self._send(HTTPStatus.OK,
                                      self.app.example_png(int(stem)),
                                      'image/png')
                except IndexError:
                    pass
        return self._json(HTTPStatus.NOT_FOUND,
                          dict(error=f'no such page: {path}'))

    do_HEAD = do_GET

    def do_POST(self):  # noqa: N802
        if not self._host_allowed():
            return self._json(HTTPStatus.FORBIDDEN,
                              dict(error='unexpected Host header'))
        url = urlsplit(self.path)
        if url.path != '/api/segment':
            return self._json(HTTPStatus.NOT_FOUND,
                              dict(error=f'no such endpoint: {url.path}'))
        name = parse_qs(url.query).get('name', ['the file'])[0][:200]
        try:
            length = int(self.headers.get('Content-Length', ''))
        except ValueError:
            length = -1
        if length < 0:
            self.close_connection = True
            return self._json(
                HTTPStatus.LENGTH_REQUIRED,
                dict(error='the upload has no valid Content-Length'))
        if length > MAX_UPLOAD_BYTES:
            self.close_connection = True
            return self._json(
                HTTPStatus.REQUEST_ENTITY_TOO_LARGE,
                dict(error=f'{name} is {length / 2**20:.1f} MB; the demo '
                     f'accepts images up to {MAX_UPLOAD_BYTES // 2**20} MB'))
        data = self.rfile.read(length)
        try:
            result = self.app.segment(data, name)
        except DemoInputError as error:
            return self._json(HTTPStatus.BAD_REQUEST, dict(error=str(error)))
        except Exception as error:  # noqa: BLE001  (shown, server goes on)
            traceback.print_exc(file=sys.stderr)
            return self._json(
                HTTPStatus.INTERNAL_SERVER_ERROR,
                dict(error=f'the model failed on {name}: '
                     f'{type(error).__name__}: {error}'))
        return self._json(HTTPStatus.OK, result)


class DemoServer(ThreadingHTTPServer):
    """``ThreadingHTTPServer`` serving :class:`DemoHandler` for ``app``.

    Args:
        app (DemoApp): The model behind the page.
        host (str): Address to listen on. Default: '127.0.0.1' (this
            machine only).
        port (int): Port; 0 picks a free one (see :attr:`url`).
        verbose (bool): Log each request on stderr.
    """
    daemon_threads = True

    def __init__(self,
                 app: DemoApp,
                 host: str = '127.0.0.1',
                 port: int = 7860,
                 verbose: bool = False):
        self.app = app
        self.verbose = verbose
        if ':' in host:
            self.address_family = socket.AF_INET6
        super().__init__((host, port), DemoHandler)

    @property
    def url(self) -> str:
        host, port = self.server_address[:2]
        if ':' in host:
            host = f'[{host}]'
        elif host in ('0.0.0.0', ''):
            host = '127.0.0.1'
        return f'http://{host}:{port}/'
