"""`hexmart serve --workers N`: uvicorn's multiprocess supervisor, with a start-up that
survives a busy machine and children that say why they died.

uvicorn's supervisor pings each child every half second and kills one that does not
answer within `timeout_worker_healthcheck` (5 s by default), then starts another. A
child answers from a thread it starts only once it has imported the app's modules (the
spawned interpreter imports the `hexmart` command's module, i.e. the whole app, before
anything else): on a loaded machine that takes longer than 5 s, so every child was
killed before it answered, and replaced by one that met the same fate ("Child process
died" over and over, nothing served). Here the timeout is `HEALTHCHECK_TIMEOUT_SECONDS`,
and each death is logged at WARNING with its cause: the exit code or signal, or the
health check it did not answer.
"""

from __future__ import annotations

import logging
import signal
from typing import Any

import uvicorn
from uvicorn.config import STARTUP_FAILURE
from uvicorn.supervisors.multiprocess import Multiprocess, Process

from entrypoints.metrics import forget_process

log = logging.getLogger("uvicorn.error")

# Long enough for a child to import the app on a loaded machine; a child that is stuck
# for this long is killed and replaced.
HEALTHCHECK_TIMEOUT_SECONDS = 60


class _Supervisor(Multiprocess):
    def keep_subprocess_alive(self) -> None:
        if self.should_exit.is_set():
            return
        timeout = self.config.timeout_worker_healthcheck
        for index, process in enumerate(self.processes):
            if not process.process.is_alive():
                cause = _exit_cause(process)
            elif process.ping(timeout):
                continue
            else:
                cause = f"it did not answer the health check within {timeout} s; killed"
            process.kill()
            process.join()
            if process.pid is not None:
                forget_process(process.pid)
            if process.exitcode == STARTUP_FAILURE:
                log.error(
                    "Child process [%s] failed to start (see its error above); stopping",
                    process.pid,
                )
                self.should_exit.set()
                return
            if self.should_exit.is_set():
                return
            log.warning("Child process [%s] died: %s; starting another", process.pid, cause)
            replacement = Process(self.config, self.sockets)
            replacement.start()
            self.processes[index] = replacement


def _exit_cause(process: Process) -> str:
    code = process.exitcode
    if code is None:
        return "it exited"
    if code < 0:
        try:
            name = signal.Signals(-code).name
        except ValueError:
            name = f"signal {-code}"
        hint = " (out of memory?)" if -code == signal.SIGKILL else ""
        return f"killed by {name}{hint}"
    return f"exit code {code}"


def serve_in_processes(app: str, *, workers: int, **options: Any) -> None:
    """What `uvicorn.run(app, workers=workers, **options)` does, with the supervisor
    above. `app` is an import string (with `factory=True` for a factory)."""
    config = uvicorn.Config(
        app, workers=workers, timeout_worker_healthcheck=HEALTHCHECK_TIMEOUT_SECONDS, **options
    )
    sock = config.bind_socket()
    try:
        _Supervisor(config, sockets=[sock]).run()
    finally:
        sock.close()
