"""The worker side of Resumable's worker protocol (version 1). Standard library only.

A worker is a long-lived process that loads what it needs once (a model, a client, a data set)
and then runs many units, one JSON line per unit on stdin, one JSON answer line per unit on
stdout. This module speaks the protocol; you write the function that runs one unit::

    from resumable_worker import serve, unit, RateLimitError

    MODEL = load_model()  # once per worker process

    @unit
    def evaluate(u):
        answer = MODEL.ask(u.item["question"], size=u.matrix["model"])
        return {"passed": answer == u.item["expected"], "answer": answer}

    if __name__ == "__main__":
        serve(evaluate)

The handler gets a :class:`Unit` and returns

* a dict: the unit's result (it must contain the field the experiment judges, "passed" by
  default; a "usage" entry such as ``{"costUSD": 0.0012, "tokens": 345}`` is also reported as the
  unit's usage);
* a bool: shorthand for ``{"passed": value}``;
* None: the handler wrote ``u.result_file`` itself.

Raising :class:`RateLimitError` (or any exception with ``status_code == 429`` or ``status == 429``,
as the OpenAI, Anthropic and httpx clients raise) tells the runner to wait and run the unit
again; any other exception is an error, retried as the experiment's ``retries`` say.

``print()`` is safe anywhere: once this module runs inside a worker, file descriptor 1 and
``sys.stdout`` point at stderr (the unit's log) and protocol lines go through a private copy of
the original stdout. ``async def`` handlers work too; with ``RESUMABLE_PER_WORKER`` > 1 an async
handler runs that many units at once on one event loop and a plain one in that many threads.

The worker exits 0 when the runner closes stdin (after finishing the units it has), and exits 1
at once when the runner dies (it watches its parent process), even in the middle of a unit.
"""

from __future__ import annotations

import asyncio
import datetime as _dt
import inspect
import json
import math
import os
import sys
import threading
import time
import traceback
from concurrent.futures import ThreadPoolExecutor
from typing import Any, Callable, Dict, Mapping, Optional

__all__ = ["serve", "unit", "Unit", "RateLimitError", "PROTOCOL"]

#: The protocol version this module speaks (sent in the ``ready`` line).
PROTOCOL = 1
#: The runner refuses longer lines (a result that big is written to ``result_file`` instead).
MAX_LINE_BYTES = 8 * 1024 * 1024

_MESSAGE_MAX = 4000
_TRACEBACK_MAX = 20000
_HEADERS_MAX = 100
_HEADER_VALUE_MAX = 2000


class RateLimitError(Exception):
    """Raise from a handler when the service said "too many requests".

    ``reset_at``: when the limit resets, as epoch seconds (float) or a ``datetime`` (a naive one
    is local time); ``retry_after``: seconds to wait (number or ``timedelta``); ``headers``: the
    response's headers, if you have them (the runner reads ``retry-after`` and the like).
    ``usage``: what the failed call cost, e.g. ``{"costUSD": 0.0004}``.
    """

    def __init__(
        self,
        message: str = "rate limited",
        reset_at: Any = None,
        retry_after: Any = None,
        *,
        headers: Optional[Mapping[str, Any]] = None,
        usage: Optional[Mapping[str, Any]] = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.reset_at = reset_at
        self.retry_after = retry_after
        self.headers = headers
        self.usage = usage


class Unit:
    """One attempt of one unit, as the runner sent it.

    ``deadline`` is epoch seconds (compare with ``time.time()``) or None; ``raw`` is the message.
    """

    __slots__ = ("id", "item_id", "item", "matrix", "repeat", "seed", "attempt", "unit_dir", "result_file", "deadline", "raw")

    def __init__(self, raw: Dict[str, Any]) -> None:
        g = raw.get
        self.raw = raw
        self.id: str = raw["id"]
        self.item_id: Optional[str] = g("itemId")
        item = g("item")
        self.item: Dict[str, Any] = item if item is not None else {}
        matrix = g("matrix")
        self.matrix: Dict[str, Any] = matrix if matrix is not None else {}
        self.repeat: int = g("repeat", 1)
        self.seed: Optional[int] = g("seed")
        self.attempt: int = g("attempt", 1)
        self.unit_dir: Optional[str] = g("unitDir")
        self.result_file: Optional[str] = g("resultFile")
        d = g("deadline")
        self.deadline: Optional[float] = d / 1000.0 if isinstance(d, (int, float)) and not isinstance(d, bool) else None

    def remaining(self) -> Optional[float]:
        """Seconds left before the deadline (may be negative), or None without one."""
        return None if self.deadline is None else self.deadline - time.time()

    def __repr__(self) -> str:
        return f"Unit(id={self.id!r}, attempt={self.attempt!r})"


Handler = Callable[[Unit], Any]

# --------------------------------------------------------------------------- the channel

_channel_lock = threading.Lock()
_proto_out: Any = None  # binary, buffered: protocol lines to the runner
_proto_in: Any = None  # binary, buffered: unit lines from the runner
_write_lock = threading.Lock()
_watching = False
_started = False
_registered: Optional[Handler] = None


def _note(text: str) -> None:
    try:
        sys.stderr.write(f"[resumable_worker] {text}\n")
        sys.stderr.flush()
    except Exception:
        pass


def _secure_channel() -> None:
    """Moves the protocol off fds 0 and 1, so nothing else in the process can touch it.

    fd 1 is duplicated into a private file for protocol lines, then fd 1 (and ``sys.stdout``)
    point at stderr: ``print()``, C extensions and child processes all write to the log. fd 0 is
    duplicated likewise and then reads /dev/null, so a child process cannot swallow unit lines.
    """
    global _proto_out, _proto_in
    with _channel_lock:
        if _proto_out is not None:
            return
        out_fd = os.dup(1)
        in_fd = os.dup(0)
        try:
            os.dup2(2, 1)
        except OSError:  # no stderr: send stray output nowhere rather than into the protocol
            null = os.open(os.devnull, os.O_WRONLY)
            os.dup2(null, 1)
            os.close(null)
        # Text printed before now (still in sys.stdout's buffer) goes to fd 1, now the log.
        try:
            if sys.stdout is not None:
                sys.stdout.flush()
        except Exception:
            pass
        if sys.stderr is not None:
            sys.stdout = sys.stderr
        try:
            null = os.open(os.devnull, os.O_RDONLY)
            os.dup2(null, 0)
            os.close(null)
        except OSError:
            pass
        _proto_in = open(in_fd, "rb")
        _proto_out = open(out_fd, "wb")


def _watch_parent() -> None:
    """Exits (1) as soon as the runner is gone, even when a unit is busy."""
    global _watching
    with _channel_lock:
        if _watching:
            return
        _watching = True
    ppid = os.getppid()
    if sys.platform.startswith("linux"):
        try:  # best effort: the kernel sends SIGTERM when the parent dies
            import ctypes
            import signal

            ctypes.CDLL(None, use_errno=True).prctl(1, int(signal.SIGTERM), 0, 0, 0)  # PR_SET_PDEATHSIG
        except Exception:
            pass

    def watch() -> None:
        while True:
            time.sleep(0.5)
            if os.getppid() != ppid:
                os._exit(1)

    threading.Thread(target=watch, name="resumable-parent-watch", daemon=True).start()


def _send(line: bytes) -> None:
    with _write_lock:
        try:
            _proto_out.write(line)
            _proto_out.flush()
        except (OSError, ValueError):  # the runner is gone (broken pipe): nobody to answer
            os._exit(1)


# --------------------------------------------------------------------------- answers


def _json_default(o: Any) -> Any:
    if isinstance(o, (set, frozenset, tuple)):
        return list(o)
    if isinstance(o, (_dt.datetime, _dt.date, _dt.time)):
        return o.isoformat()
    if isinstance(o, Mapping):
        return dict(o)
    if isinstance(o, os.PathLike):
        return os.fspath(o)
    for name in ("tolist", "item"):  # numpy arrays and scalars
        f = getattr(o, name, None)
        if callable(f):
            return f()
    raise TypeError(f"Object of type {type(o).__name__} is not JSON serializable")


_encode = json.JSONEncoder(separators=(",", ":"), allow_nan=False, default=_json_default).encode


def _usage(value: Any) -> Optional[Dict[str, Any]]:
    """The usage object as the runner accepts it (costUSD and tokens: finite numbers ≥ 0)."""
    if not isinstance(value, Mapping):
        return None
    out = {}
    for k, v in value.items():
        if k in ("costUSD", "tokens"):
            if isinstance(v, bool) or not isinstance(v, (int, float)) or not (0 <= v < math.inf):
                continue
        out[str(k)] = v
    return out or None


def _epoch_ms(value: Any) -> Any:
    if value is None or isinstance(value, bool):
        return None
    if isinstance(value, _dt.datetime):
        return round(value.timestamp() * 1000)
    if isinstance(value, (int, float)):
        return round(value * 1000) if math.isfinite(value) else None
    if isinstance(value, str):
        return value  # the runner parses text (an HTTP date, an ISO time)
    return None


def _seconds(value: Any) -> Optional[float]:
    if isinstance(value, _dt.timedelta):
        value = value.total_seconds()
    if isinstance(value, str):
        try:
            value = float(value)
        except ValueError:
            return None
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        return None
    return max(0, value)


def _headers(h: Any) -> Optional[Dict[str, str]]:
    if h is None:
        return None
    try:
        items = h.items() if hasattr(h, "items") else h
        out: Dict[str, str] = {}
        for k, v in items:
            if len(out) >= _HEADERS_MAX:
                break
            out[str(k).lower()] = str(v)[:_HEADER_VALUE_MAX]
        return out or None
    except Exception:
        return None


def _line(msg: Dict[str, Any]) -> bytes:
    return (_encode(msg) + "\n").encode()


def _result_line(uid: str, value: Any, u: Unit) -> bytes:
    if value is None:
        return _line({"type": "result", "id": uid})
    if value is True or value is False:
        return _line({"type": "result", "id": uid, "result": {"passed": value}})
    if not isinstance(value, dict):
        if isinstance(value, Mapping):
            value = dict(value)
        else:
            raise TypeError(f"the handler returned {type(value).__name__}; return a dict, a bool or None")
    msg: Dict[str, Any] = {"type": "result", "id": uid, "result": value}
    usage = _usage(value.get("usage")) if "usage" in value else None
    if usage:
        msg["usage"] = usage
    line = _line(msg)
    if len(line) <= MAX_LINE_BYTES:
        return line
    # Too long for a protocol line: write the result file here and say so.
    if not u.result_file:
        raise ValueError(f"the result is {len(line)} bytes as JSON, more than a protocol line may carry")
    body = _encode(value).encode()
    tmp = f"{u.result_file}.{os.getpid()}.{threading.get_ident()}.tmp"
    with open(tmp, "wb") as f:
        f.write(body)
    os.replace(tmp, u.result_file)
    del msg["result"]
    return _line(msg)


def _is_rate_limit(e: BaseException) -> bool:
    if isinstance(e, RateLimitError):
        return True
    try:
        return getattr(e, "status_code", None) == 429 or getattr(e, "status", None) == 429
    except Exception:
        return False


def _describe(e: BaseException) -> str:
    try:
        text = str(e)
    except Exception:
        text = "(unprintable)"
    return f"{type(e).__name__}: {text}"[:_MESSAGE_MAX]


def _exception_line(uid: str, e: BaseException) -> bytes:
    try:
        if _is_rate_limit(e):
            msg: Dict[str, Any] = {"type": "rate_limited", "id": uid}
            if isinstance(e, RateLimitError):
                msg["message"] = str(e.message)[:_MESSAGE_MAX]
                reset_at, retry_after, headers, usage = e.reset_at, e.retry_after, e.headers, e.usage
            else:
                msg["message"] = _describe(e)
                response = getattr(e, "response", None)
                headers = getattr(response, "headers", None) if response is not None else None
                if headers is None:
                    headers = getattr(e, "headers", None)
                reset_at = retry_after = usage = None
            reset = _epoch_ms(reset_at)
            if reset is not None:
                msg["resetAt"] = reset
            after = _seconds(retry_after)
            if after is not None:
                msg["retryAfterSeconds"] = after
            h = _headers(headers)
            if h:
                msg["headers"] = h
            u = _usage(usage)
            if u:
                msg["usage"] = u
            _note(f"unit {uid}: {msg['message']}")
            return _line(msg)
    except Exception as inner:  # never let a strange exception object stop the answer
        e = inner
    tb = "".join(traceback.format_exception(type(e), e, e.__traceback__))
    _note(f"unit {uid} failed:\n{tb.rstrip()}")
    return _line({"type": "error", "id": uid, "message": _describe(e), "traceback": tb[-_TRACEBACK_MAX:]})


# --------------------------------------------------------------------------- running units

_tls = threading.local()


def _await(aw: Any) -> Any:
    """Runs an awaitable a plain handler returned, on this thread's own event loop."""
    loop = getattr(_tls, "loop", None)
    if loop is None or loop.is_closed():
        loop = _tls.loop = asyncio.new_event_loop()
    return loop.run_until_complete(aw)


def _run_sync(handler: Handler, raw: Dict[str, Any]) -> bytes:
    uid = raw["id"]
    try:
        u = Unit(raw)
        value = handler(u)
        if inspect.isawaitable(value):
            value = _await(value)
        return _result_line(uid, value, u)
    except Exception as e:
        return _exception_line(uid, e)


def _fatal(e: BaseException) -> None:
    """SystemExit or KeyboardInterrupt in a pool thread: end the worker as it would inline."""
    code = e.code if isinstance(e, SystemExit) and isinstance(e.code, int) else 1
    if not isinstance(e, SystemExit):
        traceback.print_exception(type(e), e, e.__traceback__)
    try:
        sys.stderr.flush()
    finally:
        os._exit(code)


def _thread_task(handler: Handler, raw: Dict[str, Any]) -> None:
    try:
        _send(_run_sync(handler, raw))
    except BaseException as e:
        _fatal(e)


async def _run_async(handler: Handler, raw: Dict[str, Any]) -> bytes:
    uid = raw["id"]
    try:
        u = Unit(raw)
        value = handler(u)
        if inspect.isawaitable(value):
            value = await value
        return _result_line(uid, value, u)
    except (Exception, asyncio.CancelledError) as e:
        return _exception_line(uid, e)


def _parse(line: bytes) -> Optional[Dict[str, Any]]:
    if not line.strip():
        return None
    try:
        raw = json.loads(line)
    except ValueError as e:
        _note(f"ignoring a line that is not JSON ({e}): {line[:200]!r}")
        return None
    if not isinstance(raw, dict):
        _note(f"ignoring a line that is not a JSON object: {line[:200]!r}")
        return None
    kind = raw.get("type", "unit")
    if kind != "unit":
        _note(f"ignoring a message of type {kind!r}")
        return None
    uid = raw.get("id")
    if not isinstance(uid, str) or not uid:
        _note(f"ignoring a unit without an id: {line[:200]!r}")
        return None
    return raw


def _is_async(fn: Any) -> bool:
    return inspect.iscoroutinefunction(fn) or inspect.iscoroutinefunction(getattr(fn, "__call__", None))


def _per_worker() -> int:
    try:
        return max(1, int(os.environ.get("RESUMABLE_PER_WORKER", "1")))
    except ValueError:
        return 1


def unit(fn: Handler) -> Handler:
    """Marks ``fn`` as the worker's unit handler; ``serve()`` without an argument serves it.

    It does not start serving by itself: end the script with ``serve(fn)`` (or ``serve()``).
    """
    global _registered
    _registered = fn
    try:
        fn.__resumable_unit__ = True  # type: ignore[attr-defined]
    except (AttributeError, TypeError):
        pass
    return fn


def serve(handler: Optional[Handler] = None, *, per_worker: Optional[int] = None) -> None:
    """Runs units until the runner closes stdin, then returns (the script ends and exits 0).

    ``handler(u: Unit)`` may be a plain function or an ``async def``. ``per_worker`` overrides
    ``RESUMABLE_PER_WORKER`` (how many units run at once; the runner sends no more than that).
    """
    global _started
    if handler is None:
        handler = _registered
        if handler is None:
            raise TypeError("serve() needs a handler: serve(fn), or mark one with @unit")
    if not callable(handler):
        raise TypeError(f"serve() needs a function, not {type(handler).__name__}")
    with _channel_lock:
        if _started:
            raise RuntimeError("serve() was already called in this process")
        _started = True
    _secure_channel()
    _watch_parent()
    k = per_worker if per_worker is not None else _per_worker()
    k = max(1, int(k))
    readline = _proto_in.readline
    _send(_line({"type": "ready", "protocol": PROTOCOL}))

    if _is_async(handler):
        asyncio.run(_serve_async(handler, k, readline))
    elif k == 1:
        while True:
            line = readline()
            if not line:
                break
            raw = _parse(line)
            if raw is not None:
                _send(_run_sync(handler, raw))
    else:
        with ThreadPoolExecutor(max_workers=k, thread_name_prefix="resumable-unit") as pool:
            while True:
                line = readline()
                if not line:
                    break
                raw = _parse(line)
                if raw is not None:
                    pool.submit(_thread_task, handler, raw)
    try:
        _proto_out.flush()
    except (OSError, ValueError):
        pass


async def _serve_async(handler: Handler, k: int, readline: Callable[[], bytes]) -> None:
    loop = asyncio.get_running_loop()
    slots = asyncio.Semaphore(k)
    tasks: set = set()

    async def one(raw: Dict[str, Any]) -> None:
        try:
            line = await _run_async(handler, raw)
        finally:
            slots.release()
        _send(line)

    while True:
        line = await loop.run_in_executor(None, readline)
        if not line:
            break
        raw = _parse(line)
        if raw is None:
            continue
        await slots.acquire()
        t = loop.create_task(one(raw))
        tasks.add(t)
        t.add_done_callback(tasks.discard)
    if tasks:
        await asyncio.gather(*tasks)


# Inside a worker, secure the channel and watch the runner from the import on: output printed
# while the model loads already goes to the log, and a runner that dies meanwhile ends the load.
if os.environ.get("RESUMABLE_WORKER_PROTOCOL"):
    try:
        _secure_channel()
    except OSError as _e:  # no fd 0 or 1: serve() will say so
        _note(f"could not set up the protocol channel: {_e}")
    _watch_parent()
