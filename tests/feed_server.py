"""A loopback web server for `briefer fetch`: real-world-shaped feeds (RSS 2.0, Atom, JSON Feed) and article
pages (Arabic, Persian, Chinese, English), and the ways sites misbehave: a 404, a redirect loop, a redirect
into file:, a page far larger than any article (50 MB, sent without a Content-Length), a robots.txt that
disallows a path, a slow answer. It answers conditional GETs (ETag and Last-Modified) as real servers do
and counts what it sends, by path and status.
"""

from __future__ import annotations

import hashlib
import threading
import time
from collections import Counter
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

SAMPLES = Path(__file__).parent / "data" / "real-samples"
LAST_MODIFIED = "Mon, 07 Dec 2026 06:00:00 GMT"
BIG = 50 * 1024 * 1024


def _persian_page() -> str:
    text = (SAMPLES / "fa_mashregh_2023-12_kanaani-condemns-us-uk-sanctions.txt").read_text(encoding="utf-8")
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    paras = "\n".join(f"<p>{line}</p>" for line in lines[1:])
    return f"""<!DOCTYPE html><html lang="fa" dir="rtl"><head><meta charset="utf-8">
<title>{lines[0]} - مشرق نیوز</title>
<link rel="canonical" href="https://www.mashreghnews.ir/news/1569425">
<meta property="og:site_name" content="مشرق نیوز">
<meta property="article:published_time" content="2023-12-20T09:30:00+03:30">
</head><body><nav><a href="/">صفحه اصلی</a> | <a href="/politics">سیاسی</a></nav>
<article><h1>{lines[0]}</h1>{paras}</article><footer>کلیه حقوق محفوظ است</footer></body></html>"""


def _chinese_page() -> str:
    text = (SAMPLES / "zh_bbcchinese_2012-12-10_hk-cy-leung-apology.txt").read_text(encoding="utf-8")
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    paras = "\n".join(f"<p>{line}</p>" for line in lines[1:])
    return f"""<!DOCTYPE html><html lang="zh-Hans"><head><meta charset="utf-8"><title>{lines[0]}</title>
<meta property="og:site_name" content="BBC 中文网"></head>
<body><article><h1>{lines[0]}</h1>{paras}</article></body></html>"""


def _english_page() -> str:
    paras = "".join(f"<p>{p}</p>" for p in (
        "Officials in the capital said on Monday that talks between the two delegations would resume next week "
        "after a pause of nearly a month, according to a statement from the foreign ministry.",
        "The statement said both sides had agreed to exchange written proposals before the meeting, and that "
        "observers from three neighbouring countries would attend the first session.",
        "Opposition figures criticised the decision to hold the talks abroad, saying the government was avoiding "
        "scrutiny at home. A spokesman for the ministry rejected the criticism as baseless."))
    return ("<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'><title>Talks to resume next week</title>"
            "<meta property='og:site_name' content='Atom Daily'></head><body><article><h1>Talks to resume next "
            f"week</h1>{paras}</article></body></html>")


class FeedServer:
    def __init__(self, slow_seconds: float = 5.0, robots_status: int = 200) -> None:
        self.slow_seconds = slow_seconds
        self.robots_status = robots_status  # 200: the robots.txt below; else that status, with no body
        self.sent: Counter[tuple[str, int]] = Counter()  # (path, status) -> responses
        self.agents: list[str] = []
        self.in_flight = 0
        self.max_in_flight = 0  # /pace/ requests under way at once
        self.starts: list[float] = []  # when each /pace/ request arrived (time.monotonic)
        self._lock = threading.Lock()
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self.pages: dict[str, tuple[str, bytes]] = {}

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    def __enter__(self) -> FeedServer:
        self._build()
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.shutdown()
        self._server.server_close()

    def downloads(self, path: str) -> int:
        return self.sent[(path, 200)]

    def _build(self) -> None:
        b = self.base
        arabic = (SAMPLES / "ar_cnnarabic_2013-08_syria-rebels-seize-rocket-depots.html").read_bytes()
        rss = f"""<?xml version="1.0" encoding="UTF-8"?>
<rss version="2.0" xmlns:dc="http://purl.org/dc/elements/1.1/" xmlns:content="http://purl.org/rss/1.0/modules/content/">
<channel><title>Middle East headlines</title><link>{b}/</link><description>Latest news</description>
<language>ar</language><lastBuildDate>Mon, 07 Dec 2026 06:00:00 GMT</lastBuildDate>
<item><title>مقاتلو المعارضة يستولون على مستودعات صواريخ</title><link>{b}/ar/syria-rockets.html</link>
<guid isPermaLink="true">{b}/ar/syria-rockets.html</guid><pubDate>Sat, 03 Aug 2013 10:15:00 +0000</pubDate>
<dc:creator>CNN Arabic</dc:creator><description>&lt;p&gt;استولى مقاتلو المعارضة...&lt;/p&gt;</description></item>
<item><title>کنعانی تحریم‌های آمریکا و انگلیس را محکوم کرد</title><link>{b}/fa/kanaani.html</link>
<pubDate>Wed, 20 Dec 2023 06:00:00 +0000</pubDate><description>سخنگوی وزارت امور خارجه...</description></item>
</channel></rss>"""
        atom = f"""<?xml version="1.0" encoding="utf-8"?>
<feed xmlns="http://www.w3.org/2005/Atom"><title>Atom Daily</title>
<id>urn:uuid:60a76c80-d399-11d9-b91C-0003939e0af6</id>
<updated>2026-12-07T06:00:00Z</updated><link href="{b}/atom.xml" rel="self"/>
<entry><title>Talks to resume next week</title><link rel="alternate" href="{b}/news/talks.html"/>
<id>tag:atomdaily,2026:talks</id><published>2026-12-06T18:00:00Z</published><updated>2026-12-06T18:00:00Z</updated>
<author><name>Staff reporter</name></author><summary>Officials said talks would resume.</summary></entry>
</feed>"""
        json_feed = ('{"version": "https://jsonfeed.org/version/1.1", "title": "BBC 中文网", "home_page_url": "' + b
                     + '/", "items": [{"id": "1", "url": "' + b + '/zh/leung.html", "title": "梁振英道歉",'
                     ' "date_published": "2012-12-10T08:00:00Z", "authors": [{"name": "BBC"}]},'
                     ' {"id": "2", "url": "' + b + '/zh/undated.html", "title": "无日期"}]}')
        undated = _chinese_page().replace("梁振英", "梁振英先生")  # different bytes, no date in the page
        self.pages = {
            "/robots.txt": ("text/plain", b"User-agent: *\nDisallow: /private/\n"),
            "/rss.xml": ("application/rss+xml; charset=utf-8", rss.encode()),
            "/atom.xml": ("application/atom+xml", atom.encode()),
            "/feed.json": ("application/feed+json", json_feed.encode()),
            "/ar/syria-rockets.html": ("text/html; charset=utf-8", arabic),
            "/fa/kanaani.html": ("text/html; charset=utf-8", _persian_page().encode()),
            "/news/talks.html": ("text/html", _english_page().encode()),
            "/zh/leung.html": ("text/html; charset=utf-8", _chinese_page().encode()),
            "/zh/undated.html": ("text/html; charset=utf-8", undated.encode()),
            "/private/memo.html": ("text/html", b"<html><body><p>not for robots</p></body></html>"),
        }

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        server = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: Any) -> None:
                pass

            def _count(self, status: int) -> None:
                with server._lock:
                    server.sent[(self.path, status)] += 1
                    server.agents.append(self.headers.get("User-Agent", ""))

            def _reply(self, status: int, headers: dict[str, str], body: bytes = b"") -> None:
                self._count(status)
                self.send_response(status)
                for k, v in headers.items():
                    self.send_header(k, v)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                try:
                    self.wfile.write(body)
                except (BrokenPipeError, ConnectionResetError):  # the client gave up (the slow page)
                    self.close_connection = True

            def do_GET(self) -> None:  # noqa: N802
                path = self.path
                if path == "/robots.txt" and server.robots_status != 200:
                    return self._reply(server.robots_status, {"Content-Type": "text/plain"})
                if path.startswith("/pace/"):  # a page that takes a moment, one per number
                    with server._lock:
                        server.in_flight += 1
                        server.max_in_flight = max(server.max_in_flight, server.in_flight)
                        server.starts.append(time.monotonic())
                    time.sleep(0.2)
                    with server._lock:  # before the answer leaves: the client may start the next at once
                        server.in_flight -= 1
                    n = path.removeprefix("/pace/")
                    return self._reply(200, {"Content-Type": "text/html"}, f"<html><body><article><h1>Item {n}</h1>"
                                       f"<p>Paragraph of item {n}, long enough to be an article's text.</p>"
                                       "</article></body></html>".encode())
                if path == "/loop/a":
                    return self._reply(302, {"Location": "/loop/b"})
                if path == "/loop/b":
                    return self._reply(301, {"Location": f"{server.base}/loop/a"})
                if path == "/to-file":
                    return self._reply(302, {"Location": "file:///etc/passwd"})
                if path == "/slow.html":
                    time.sleep(server.slow_seconds)
                    return self._reply(200, {"Content-Type": "text/html"}, b"<html><body><p>late</p></body></html>")
                if path == "/big.html":
                    return self._big()
                if path not in server.pages:
                    return self._reply(404, {"Content-Type": "text/plain"}, b"not found")
                ctype, body = server.pages[path]
                etag = '"' + hashlib.sha256(body).hexdigest()[:16] + '"'
                if self.headers.get("If-None-Match") == etag or (
                        "If-None-Match" not in self.headers and self.headers.get("If-Modified-Since") == LAST_MODIFIED):
                    return self._reply(304, {"ETag": etag})
                self._reply(200, {"Content-Type": ctype, "ETag": etag, "Last-Modified": LAST_MODIFIED}, body)

            def _big(self) -> None:
                """50 MB of page, close-delimited (no Content-Length): only a cap on bytes read stops it."""
                self._count(200)
                self.send_response(200)
                self.send_header("Content-Type", "text/html")
                self.send_header("Connection", "close")
                self.end_headers()
                chunk = ("<p>" + "كلام " * 200_000 + "</p>").encode()[: 1 << 20]
                try:
                    self.wfile.write(b"<html><body>")
                    for _ in range(BIG // len(chunk)):
                        self.wfile.write(chunk)
                except (BrokenPipeError, ConnectionResetError):
                    pass
                self.close_connection = True

        return Handler
