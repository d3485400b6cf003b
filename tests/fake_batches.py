"""A real HTTP server on 127.0.0.1 with the OpenAI Files and Batches API, and chat completions.

    POST /v1/files                  upload (multipart, purpose "batch")
    GET  /v1/files/{id}             the file object      GET /v1/files/{id}/content   its bytes
    POST /v1/batches                create (validates the input file like the provider: each line a
                                    request with custom_id, method POST, url = the batch's endpoint)
    GET  /v1/batches/{id}           retrieve: each retrieve moves the batch one step on,
                                    validating → in_progress → finalizing → completed
    GET  /v1/batches                list                 POST /v1/batches/{id}/cancel
    POST /v1/chat/completions       a live request (the merge), answered like tests/fake_openai.py

Each request line of a batch is answered by `responder(body)` wrapped by fake_openai.completion,
exactly as a live request is. What goes wrong is chosen per batch, in creation order, with
`outcomes`: "completed" (default), "failed" (the input file is rejected at validation), "expired"
(the window ends after half the lines: the rest are error lines `batch_expired`). A cancelled batch
keeps the first half of its answers. `errors` / `invalid` / `broken` are texts: the first line whose
messages contain one is answered with an error line (HTTP 500) / an invalid answer (a translation missing
its last paragraph: kept in part) / an answer with nothing usable (an empty English headline), once per
text. `hold_create` makes the n-th create request (1-based) wait until
`release` is set and then answer 500 without creating anything: the client is killed meanwhile.
`in_progress_steps` keeps a batch in_progress for that many more retrieves, its completed count
rising evenly, and `started_ago` dates its in_progress_at that many seconds back (for an ETA).
While `paused` is set, a retrieve shows the batch as it is without moving it on (a long batch);
`retrieves` counts them.
"""

from __future__ import annotations

import email.parser
import email.policy
import json
import threading
import time
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from fake_openai import completion

Responder = Callable[[dict[str, Any]], dict[str, Any]]
STEPS = ("validating", "in_progress", "finalizing", "completed")


class FakeBatches:
    def __init__(self, responder: Responder, outcomes: list[str] | None = None, errors: list[str] | None = None,
                 invalid: list[str] | None = None, hold_create: int | None = None, in_progress_steps: int = 0,
                 started_ago: float = 0.0, broken: list[str] | None = None) -> None:
        self.responder = responder
        self.outcomes = list(outcomes or [])
        self.errors = list(errors or [])
        self.invalid = list(invalid or [])
        self.broken = list(broken or [])
        self.hold_create = hold_create
        self.release = threading.Event()
        self.files: dict[str, dict[str, Any]] = {}
        self.content: dict[str, bytes] = {}
        self.batches: dict[str, dict[str, Any]] = {}
        self.plans: dict[str, str] = {}
        self.creates_seen = 0
        self.in_progress_steps, self.started_ago = in_progress_steps, started_ago
        self.steps: dict[str, int] = {}
        self.paused = threading.Event()
        self.retrieves = 0
        self.requests: list[dict[str, Any]] = []  # live chat-completion bodies
        self._lock = threading.Lock()
        server = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: Any) -> None:
                pass

            def _body(self) -> bytes:
                return self.rfile.read(int(self.headers.get("Content-Length", 0)))

            def do_GET(self) -> None:  # noqa: N802
                parts = self.path.split("?")[0].strip("/").split("/")[1:]  # drop "v1"
                with server._lock:
                    if parts == ["batches"]:
                        data = list(server.batches.values())
                        return self._send(200, {"object": "list", "data": data, "has_more": False,
                                                "first_id": data[0]["id"] if data else None,
                                                "last_id": data[-1]["id"] if data else None})
                    if len(parts) == 2 and parts[0] == "batches" and parts[1] in server.batches:
                        return self._send(200, server._advance(parts[1]))
                    if len(parts) == 2 and parts[0] == "files" and parts[1] in server.files:
                        return self._send(200, server.files[parts[1]])
                    if len(parts) == 3 and parts[0] == "files" and parts[2] == "content" and parts[1] in server.content:
                        return self._raw(server.content[parts[1]])
                return self._send(404, {"error": {"message": f"no such object: {self.path}",
                                                  "type": "invalid_request_error"}})

            def do_POST(self) -> None:  # noqa: N802
                parts = self.path.split("?")[0].strip("/").split("/")[1:]
                raw = self._body()
                if parts == ["chat", "completions"]:
                    body = json.loads(raw)
                    with server._lock:
                        server.requests.append(body)
                    return self._send(200, completion(body, server.responder(body)))
                if parts == ["files"]:
                    return self._send(200, server._upload(self.headers.get("Content-Type", ""), raw))
                if parts == ["batches"]:
                    with server._lock:
                        server.creates_seen += 1
                        hold = server.creates_seen == server.hold_create
                    if hold:
                        server.release.wait(60)
                        return self._send(500, {"error": {"message": "gone", "type": "server_error"}})
                    status, payload = server._create(json.loads(raw))
                    return self._send(status, payload)
                if len(parts) == 3 and parts[0] == "batches" and parts[2] == "cancel":
                    with server._lock:
                        batch = server.batches.get(parts[1])
                        if batch is None:
                            return self._send(404, {"error": {"message": "no such batch",
                                                              "type": "invalid_request_error"}})
                        if batch["status"] in ("validating", "in_progress", "finalizing"):
                            batch["status"] = "cancelling"
                            batch["cancelling_at"] = int(time.time())
                        return self._send(200, dict(batch))
                return self._send(404, {"error": {"message": "not found", "type": "invalid_request_error"}})

            def _send(self, status: int, payload: dict[str, Any]) -> None:
                self._raw(json.dumps(payload, ensure_ascii=False).encode("utf-8"), status, "application/json")

            def _raw(self, data: bytes, status: int = 200, kind: str = "application/octet-stream") -> None:
                try:
                    self.send_response(status)
                    self.send_header("Content-Type", kind)
                    self.send_header("Content-Length", str(len(data)))
                    self.end_headers()
                    self.wfile.write(data)
                except OSError:
                    self.close_connection = True

        class Server(ThreadingHTTPServer):
            def handle_error(self, request: Any, client_address: Any) -> None:
                pass

        self._httpd = Server(("127.0.0.1", 0), Handler)
        self._httpd.daemon_threads = True
        self._thread = threading.Thread(target=self._httpd.serve_forever, daemon=True)

    # ------------------------------------------------------------------ files

    def _upload(self, content_type: str, raw: bytes) -> dict[str, Any]:
        message = email.parser.BytesParser(policy=email.policy.HTTP).parsebytes(
            f"Content-Type: {content_type}\r\n\r\n".encode() + raw)
        fields: dict[str, tuple[str | None, bytes]] = {}
        for part in message.iter_parts():
            name = part.get_param("name", header="content-disposition")
            fields[str(name)] = (part.get_filename(), part.get_payload(decode=True) or b"")
        filename, data = fields["file"]
        assert fields["purpose"][1] == b"batch"
        with self._lock:
            file_id = f"file-{len(self.files) + 1:04d}"
            self.files[file_id] = {"id": file_id, "object": "file", "bytes": len(data), "created_at": int(time.time()),
                                   "filename": filename, "purpose": "batch", "status": "processed"}
            self.content[file_id] = data
            return self.files[file_id]

    def _store(self, name: str, lines: list[dict[str, Any]]) -> str | None:
        if not lines:
            return None
        data = "".join(json.dumps(x, ensure_ascii=False) + "\n" for x in lines).encode("utf-8")
        file_id = f"file-{len(self.files) + 1:04d}"
        self.files[file_id] = {"id": file_id, "object": "file", "bytes": len(data), "created_at": int(time.time()),
                               "filename": name, "purpose": "batch_output", "status": "processed"}
        self.content[file_id] = data
        return file_id

    # ------------------------------------------------------------------ batches

    def _create(self, params: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        with self._lock:
            file_id = params.get("input_file_id")
            if file_id not in self.content:
                return 400, {"error": {"message": f"No such File object: {file_id}", "type": "invalid_request_error"}}
            assert params.get("endpoint") == "/v1/chat/completions" and params.get("completion_window") == "24h"
            batch_id = f"batch_{len(self.batches) + 1:04d}"
            self.plans[batch_id] = self.outcomes.pop(0) if self.outcomes else "completed"
            now = int(time.time())
            lines = self.content[file_id].decode("utf-8").splitlines()
            self.batches[batch_id] = {
                "id": batch_id, "object": "batch", "endpoint": params["endpoint"], "errors": None,
                "input_file_id": file_id, "completion_window": "24h", "status": "validating",
                "output_file_id": None, "error_file_id": None, "created_at": now, "expires_at": now + 86400,
                "request_counts": {"total": len(lines), "completed": 0, "failed": 0},
                "metadata": params.get("metadata"),
            }
            return 200, dict(self.batches[batch_id])

    def _validate(self, batch: dict[str, Any]) -> list[dict[str, Any]]:
        errors = []
        for n, raw in enumerate(self.content[batch["input_file_id"]].decode("utf-8").splitlines(), start=1):
            try:
                line = json.loads(raw)
                ok = bool(line["custom_id"]) and line["method"] == "POST" and line["url"] == batch["endpoint"] \
                    and isinstance(line["body"], dict)
            except (ValueError, KeyError, TypeError):
                ok = False
            if not ok:
                errors.append({"code": "invalid_request", "message": "This line is not a valid request.", "line": n})
        return errors

    def _advance(self, batch_id: str) -> dict[str, Any]:
        """One step on, and the batch as the provider would show it now."""
        batch = self.batches[batch_id]
        self.retrieves += 1
        if self.paused.is_set():
            return dict(batch)
        plan = self.plans[batch_id]
        now = int(time.time())
        status = batch["status"]
        if status == "validating":
            errors = self._validate(batch)
            if errors or plan == "failed":
                errors = errors or [{"code": "invalid_file", "message": "The input file was rejected: it holds "
                                     "requests for more than one model.", "line": None}]
                batch.update(status="failed", failed_at=now, errors={"object": "list", "data": errors})
            else:
                batch.update(status="in_progress", in_progress_at=int(now - self.started_ago))
        elif status == "in_progress":
            step = self.steps[batch_id] = self.steps.get(batch_id, 0) + 1
            if step <= self.in_progress_steps:
                counts = batch["request_counts"]
                done = counts["total"] * step // (self.in_progress_steps + 1)
                batch["request_counts"] = {**counts, "completed": done}
            elif plan == "expired":
                self._finish(batch, "expired", keep=0.5)
            else:
                batch.update(status="finalizing", finalizing_at=now)
        elif status == "finalizing":
            self._finish(batch, "completed", keep=1.0)
        elif status == "cancelling":
            self._finish(batch, "cancelled", keep=0.5)
        return dict(batch)

    def _finish(self, batch: dict[str, Any], status: str, keep: float) -> None:
        lines = [json.loads(x) for x in self.content[batch["input_file_id"]].decode("utf-8").splitlines()]
        answered = int(len(lines) * keep + 0.5) if keep < 1 else len(lines)
        out, err = [], []
        for n, line in enumerate(lines):
            rid = f"batch_req_{batch['id']}_{n}"
            body = line["body"]
            if n >= answered:
                code = "batch_expired" if status == "expired" else "batch_cancelled"
                err.append({"id": rid, "custom_id": line["custom_id"], "response": None,
                            "error": {"code": code, "message": f"This request could not be executed before the "
                                      f"batch was {status}."}})
                continue
            text = "\n".join(str(m.get("content") or "") for m in body["messages"])
            if (hit := next((e for e in self.errors if e in text), None)) is not None:
                self.errors.remove(hit)
                err.append({"id": rid, "custom_id": line["custom_id"], "error": None,
                            "response": {"status_code": 500, "request_id": rid, "body": {"error": {
                                "message": "The server had an error processing your request.",
                                "type": "server_error"}}}})
                continue
            answer = self.responder(body)
            if (hit := next((e for e in self.invalid if e in text), None)) is not None:
                self.invalid.remove(hit)
                answer = {**answer, "translation_en": answer["translation_en"][:-1]}
            if (hit := next((e for e in self.broken if e in text), None)) is not None:
                self.broken.remove(hit)
                answer = {**answer, "headline_en": ""}
            out.append({"id": rid, "custom_id": line["custom_id"], "error": None,
                        "response": {"status_code": 200, "request_id": rid, "body": completion(body, answer)}})
        now = int(time.time())
        batch.update(status=status, output_file_id=self._store("output.jsonl", out),
                     error_file_id=self._store("errors.jsonl", err),
                     request_counts={"total": len(lines), "completed": len(out), "failed": len(err)},
                     **{f"{status}_at": now})

    @property
    def base_url(self) -> str:
        host, port = self._httpd.server_address[:2]
        return f"http://{host}:{port}/v1"

    def __enter__(self) -> FakeBatches:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.release.set()
        self._httpd.shutdown()
        self._httpd.server_close()
