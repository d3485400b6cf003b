"""The Files and Batches API (BatchClient): the bookkeeping requests of a batch, as plain JSON data."""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from briefer.errors import EndpointError, EndpointFailed

from .failures import _api_message, _short, redirect_line

if TYPE_CHECKING:
    from briefer.model.endpoint import EndpointConfig


class BatchClient:
    """The Files and Batches API (upload, create, retrieve, download, cancel), as plain JSON data.

    These are a handful of small bookkeeping requests per batch, not model calls, so the SDK's own
    retries (2, with its backoff) are enough here; briefer's retry layer stays on the model calls.
    Every failure becomes one `EndpointError` line naming the endpoint, never the key."""

    def __init__(self, config: EndpointConfig, http_client: Any = None) -> None:
        import openai

        key = config.api_key or os.environ.get("OPENAI_API_KEY")
        if not key:
            if config.base_url is None:
                raise EndpointError("no API key: set OPENAI_API_KEY (batches are submitted to the provider), or "
                                    "use --base-url")
            key = "not-needed"
        self.config = config
        if http_client is None:  # the SDK's default follows redirects: a 3xx must be refused, not followed
            import weakref

            http_client = openai.DefaultHttpxClient(follow_redirects=False)
            weakref.finalize(self, http_client.close)  # as the SDK's own client closes itself when dropped
        self._client = openai.OpenAI(api_key=key, base_url=config.base_url, timeout=config.timeout, max_retries=2,
                                     http_client=http_client)

    def _call(self, what: str, fn: Callable[[], Any]) -> Any:
        import openai

        try:
            return fn()
        except openai.APIStatusError as exc:
            if 300 <= exc.status_code < 400:
                raise EndpointFailed(f"{what}: " + redirect_line(self.config.endpoint, exc.status_code,
                                                                 exc.response.headers.get("location", ""))) from exc
            raise EndpointFailed(f"{self.config.endpoint}: {what} failed (HTTP {exc.status_code}: "
                                 f"{_api_message(exc)})") from exc
        except openai.OpenAIError as exc:
            raise EndpointFailed(f"{self.config.endpoint}: {what} failed: {_short(str(exc))}") from exc

    def upload(self, name: str, data: bytes) -> dict[str, Any]:
        file = self._call(f"uploading {name}", lambda: self._client.files.create(
            file=(name, data, "application/jsonl"), purpose="batch"))
        return dict(file.model_dump(mode="json"))

    def create(self, input_file_id: str, metadata: dict[str, str]) -> dict[str, Any]:
        batch = self._call("creating the batch", lambda: self._client.batches.create(
            input_file_id=input_file_id, endpoint="/v1/chat/completions", completion_window="24h", metadata=metadata))
        return dict(batch.model_dump(mode="json"))

    def retrieve(self, batch_id: str) -> dict[str, Any]:
        batch = self._call(f"reading batch {batch_id}", lambda: self._client.batches.retrieve(batch_id))
        return dict(batch.model_dump(mode="json"))

    def find(self, input_file_id: str) -> dict[str, Any] | None:
        """A batch already made from this uploaded file (a crash between creating it and noting its id)."""
        page = self._call("listing batches", lambda: self._client.batches.list(limit=100))
        for batch in page.data:
            if batch.input_file_id == input_file_id:
                return dict(batch.model_dump(mode="json"))
        return None

    def download_to(self, file_id: str, sink: Any) -> None:
        """The file's bytes written to `sink` as they arrive (an output file may be gigabytes)."""
        def copy() -> None:
            with self._client.files.with_streaming_response.content(file_id) as response:
                for chunk in response.iter_bytes(1 << 20):
                    sink.write(chunk)

        self._call(f"downloading file {file_id}", copy)

    def cancel(self, batch_id: str) -> dict[str, Any]:
        batch = self._call(f"cancelling batch {batch_id}", lambda: self._client.batches.cancel(batch_id))
        return dict(batch.model_dump(mode="json"))

    def close(self) -> None:
        self._client.close()
