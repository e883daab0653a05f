"""A local HTTP server on 127.0.0.1 for the download tests (no other address is ever used)."""

from __future__ import annotations

import http.server
import threading


class ZipServer:
    """A local HTTP server on 127.0.0.1 serving one zip, optionally cut off mid-body."""

    def __init__(self, payload: bytes, cut_at: int | None = None, name: str = "archive.zip"):
        payload_, cut = payload, cut_at

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self):
                self.send_response(200)
                self.send_header("Content-Type", "application/zip")
                self.send_header("Content-Length", str(len(payload_)))
                self.end_headers()
                self.wfile.write(payload_ if cut is None else payload_[:cut])
                self.wfile.flush()
                if cut is not None:
                    self.connection.close()

            def log_message(self, *args):
                pass

        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}/{name}"
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    def close(self):
        self.httpd.shutdown()
        self.httpd.server_close()
