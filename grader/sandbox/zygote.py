"""The grader's handles on the processes that fork workers: its zygote, and a notebook's.

A `Zygote` is made by the nursery, forked from the grader at start; when a worker kills
it, `restart` asks the nursery for a new one. A `SubZygote` is a notebook's worker that
forks its exercises' workers: it runs the submission's code, so nothing it says is
trusted. Every answer of either has a deadline.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import time
from typing import Any, Callable

from grader import codec
from grader.protocol import Job
from grader.sandbox.nursery import nursery_loop
from grader.sandbox.processes import kill_group


class ZygoteGone(RuntimeError):
    """The zygote (or the nursery that makes zygotes) ended unexpectedly."""


class NotebookGone(RuntimeError):
    """A notebook's process (the zygote of that submission's exercises) ended, stopped
    answering, or said something malformed."""


class Zygote:
    """A warm process (torch imported) that forks one worker per job.

    It is made by a nursery, forked from the grader at start: when a worker kills its
    zygote, `restart` asks the nursery for a new one, as clean as the first.
    """

    Gone: type[Exception] = ZygoteGone
    #: Seconds any answer of the zygote may take (it answers in milliseconds; a stopped
    #: or wedged zygote is then replaced, never waited for).
    patience: float | None = 30.0
    #: Seconds the nursery may take to import torch and make a zygote (a busy machine).
    nursery_patience: float = 180.0

    def __init__(self, warm_up: Callable[[], None], worker_main: Callable[[Job, int], None]):
        self.exits: dict[int, str] = {}
        self.pid = 0
        self._sock: socket.socket | None = None
        self._ctl, nursery_sock = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        grader = os.getpid()
        pid = os.fork()
        if pid == 0:  # the nursery
            self._ctl.close()
            try:
                nursery_loop(nursery_sock, grader, warm_up, worker_main)
            finally:
                os._exit(0)
        nursery_sock.close()
        self.nursery_pid = pid
        self._ctl.settimeout(self.nursery_patience)
        self._ask()

    def _ask(self) -> None:
        try:
            self._ctl.send(b"zygote")
        except OSError as exc:
            raise ZygoteGone("the nursery process ended unexpectedly") from exc

    def _connect(self) -> socket.socket:
        if self._sock is None:
            try:
                message, fds, _flags, _addr = socket.recv_fds(self._ctl, 1024, 1)
            except OSError as exc:
                raise ZygoteGone("the nursery process ended unexpectedly") from exc
            if not message or len(fds) != 1:
                for fd in fds:
                    os.close(fd)
                raise ZygoteGone("the nursery process ended unexpectedly")
            self.pid = int(json.loads(message)["zygote"])
            self._sock = socket.socket(fileno=fds[0])
            self._sock.settimeout(self.patience)
        return self._sock

    def restart(self) -> None:
        """Drop the current zygote (dead, or abandoned) and get a new one from the nursery."""
        if self._sock is not None:
            self._sock.close()
            self._sock = None
            self.exits.clear()
            try:
                os.kill(self.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            self._ask()
        self._connect()

    def fileno(self) -> int:
        return self._connect().fileno()

    def spawn(self, job: Job, result_w: int, output_w: int) -> int:
        sock = self._connect()
        job_fd = os.memfd_create("grader-job", os.MFD_CLOEXEC)
        try:
            os.write(job_fd, encode_job(job))
            os.lseek(job_fd, 0, os.SEEK_SET)
            try:
                socket.send_fds(sock, [b"spawn"], [job_fd, result_w, output_w])
            except OSError as exc:
                raise self.Gone("the zygote process ended unexpectedly") from exc
        finally:
            os.close(job_fd)
        give_up = None if self.patience is None else time.monotonic() + self.patience
        while True:
            message = self._recv()
            if "spawned" in message:
                return message["spawned"]
            if give_up is not None and time.monotonic() > give_up:
                raise self.Gone("the zygote process did not start the job")

    def _recv(self) -> dict[str, Any]:
        try:
            raw = self._connect().recv(65536)
        except OSError as exc:  # socket.timeout too
            raise self.Gone("the zygote process ended unexpectedly") from exc
        if not raw:
            raise self.Gone("the zygote process ended unexpectedly")
        try:
            message = json.loads(raw)
        except (ValueError, RecursionError):
            message = None
        pid_of = message.get("exited", message.get("spawned")) if isinstance(message, dict) \
            else None
        if type(pid_of) is not int or ("exited" in message
                                       and not isinstance(message.get("status"), str)):
            raise self.Gone("the zygote process sent a malformed message")
        if "exited" in message:
            self.exits[message["exited"]] = message["status"]
        return message

    def poll_exits(self) -> None:
        """Read exit notices that are waiting (called when the socket is readable)."""
        self._recv()

    def close(self) -> None:
        """End the zygote and the nursery; the nursery kills what is left (strays included)."""
        for sock in (self._sock, self._ctl):
            if sock is not None:
                sock.close()
        deadline = time.monotonic() + 2.0
        while True:
            try:
                pid, _status = os.waitpid(self.nursery_pid, os.WNOHANG)
            except ChildProcessError:
                return
            if pid or time.monotonic() > deadline:
                break
            time.sleep(0.01)
        if not pid:
            try:
                os.kill(self.nursery_pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            deadline = time.monotonic() + 5.0   # reaped if it ends in time; never waited on
            while time.monotonic() < deadline:
                try:
                    if os.waitpid(self.nursery_pid, os.WNOHANG)[0]:
                        break
                except ChildProcessError:
                    break
                time.sleep(0.01)


def encode_job(job: Job) -> bytes:
    """`json.dumps(job.to_json())`, the inputs' part made once per inputs object (every
    student on a seed gets the same, megabytes of base64: 10 ms an exercise again)."""
    data = {key: value for key, value in job.to_json().items() if key != "inputs"}
    head = json.dumps(data).encode()
    return head[:-1] + b', "inputs": ' + codec.plain_json(job.inputs) + b"}"


class SubZygote(Zygote):
    """A submission's own zygote: the worker that ran a notebook's top-level code once,
    now forking one worker per exercise from the state it built (`zygote_loop` there).

    It runs the submission's code, so nothing it says is trusted: its answers have a
    deadline, malformed ones end it, and a pid it names is checked in /proc before its
    group is killed (`kill_job`). Whatever goes wrong raises NotebookGone: the grader
    then ends this submission's notebook, and nothing else.
    """

    Gone = NotebookGone
    patience = 5.0

    def __init__(self, sock: socket.socket, pid: int):
        self.exits = {}
        self.pid = pid          # the notebook's worker, as the grader's own zygote named it
        self._ctl = None
        self._sock = sock
        sock.settimeout(self.patience)

    def _connect(self) -> socket.socket:
        if self._sock is None:
            raise NotebookGone("the notebook's process is closed")
        return self._sock

    def restart(self) -> None:
        raise NotebookGone("a notebook's process is not restarted")

    def kill_job(self, pid: int) -> None:
        """Kill the group of worker `pid` if it is one: a child of this notebook's process
        leading its own group. Else end the notebook's process (it lied about its pids)."""
        try:
            with open(f"/proc/{pid}/stat", "rb") as handle:
                fields = handle.read().rsplit(b")", 1)[1].split()
            parent, group = int(fields[1]), int(fields[2])
        except (OSError, ValueError, IndexError):
            return  # gone already (and its group killed by the notebook's process)
        if parent == self.pid and group == pid:
            kill_group(pid)
        else:
            kill_group(self.pid)

    def close(self) -> None:
        if self._sock is not None:
            self._sock.close()
            self._sock = None
        kill_group(self.pid)  # its workers die with it (PR_SET_PDEATHSIG)
