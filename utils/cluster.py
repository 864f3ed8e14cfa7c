"""A local cluster of worker processes for `MultiWorkerMirroredStrategy`, on one machine.

Used by notebooks/08_multi_device_training.ipynb, whose subject is the strategy: this module
is the process management around it.

- `free_ports`, `cluster_spec`, `tf_config`: the `TF_CONFIG` that a multi-worker cluster reads.
- `launch_workers(script, num_workers)`: a context manager that starts a local cluster of
  worker processes on 127.0.0.1 and always ends them, even when the block raises.

The worker processes are plain `python script ...` processes with `TF_CONFIG` in their
environment: exactly what a real cluster runs on each machine, with host names instead of
127.0.0.1. The default script, `utils/_multiworker_worker.py`, trains with `utils.distributed`.
"""

from __future__ import annotations

import contextlib
import json
import os
import pathlib
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import weakref

LOCALHOST = "127.0.0.1"
WORKER_SCRIPT = pathlib.Path(__file__).with_name("_multiworker_worker.py")


def free_ports(count: int, host: str = LOCALHOST) -> list[int]:
    """`count` distinct TCP ports that are free on `host` right now (the operating system picks
    them; another program could take one before a worker binds it: rare, and a clear error)."""
    sockets = []
    try:
        for _ in range(count):
            sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            sock.bind((host, 0))
            sockets.append(sock)
        return [sock.getsockname()[1] for sock in sockets]
    finally:
        for sock in sockets:
            sock.close()


def cluster_spec(num_workers: int, *, host: str = LOCALHOST, ports=None) -> dict:
    """The `cluster` part of TF_CONFIG: {"worker": ["host:port", ...]}; ports: by default `free_ports`."""
    if ports is None:
        ports = free_ports(num_workers, host)
    return {"worker": [f"{host}:{port}" for port in ports]}


def tf_config(cluster: dict, task_type: str = "worker", task_index: int = 0) -> str:
    """The TF_CONFIG environment variable (a JSON string) for task (task_type, task_index) of
    `cluster` ({"worker": ["host:port", ...], ...} as from `cluster_spec`)."""
    return json.dumps({"cluster": cluster, "task": {"type": task_type, "index": task_index}})


class WorkerError(RuntimeError):
    """A worker process failed; the message ends with the tail of its log."""


class WorkerGroup:
    """Worker processes of a local cluster; use it through `launch_workers`.

    Attributes: `cluster` (the cluster spec), `directory` (a scratch folder shared with the
    workers, deleted on exit), `processes` (subprocess.Popen objects), `pids`, `listening`
    (the TCP addresses each worker listened on, as seen by `wait`).
    """

    def __init__(self, script, num_workers, args=()):
        self.script = pathlib.Path(script).resolve()
        self.num_workers = num_workers
        self.args = [str(a) for a in args]
        self.cluster = None
        self.directory = None
        self.processes: list[subprocess.Popen] = []
        self.listening: list[set[str]] = [set() for _ in range(self.num_workers)]
        self._logs = []
        self._finalizer = None

    def start(self) -> "WorkerGroup":
        self.directory = pathlib.Path(tempfile.mkdtemp(prefix="workers_"))
        self.cluster = cluster_spec(self.num_workers)
        # End the workers even if this process exits without leaving the `with` block
        # (finalize objects also run at interpreter exit). The list fills in below.
        self._finalizer = weakref.finalize(self, _cleanup, self.processes, self.directory)
        try:
            for index in range(self.num_workers):
                env = dict(os.environ)
                env["TF_CONFIG"] = tf_config(self.cluster, "worker", index)
                env.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
                env["PYTHONPATH"] = os.pathsep.join(
                    [str(pathlib.Path(__file__).resolve().parents[1])] +
                    ([env["PYTHONPATH"]] if env.get("PYTHONPATH") else []))
                log = open(self.directory / f"worker_{index}.log", "wb")
                self._logs.append(log)
                self.processes.append(subprocess.Popen(
                    [sys.executable, str(self.script), *self.args, "--output-dir", str(self.directory)],
                    env=env, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                    start_new_session=True))  # its own process group: we can end it and its children
        except BaseException:
            self.stop()
            raise
        return self

    def wait(self, timeout: float = 120.0) -> list[str]:
        """Wait until every worker has exited; returns their logs (text).

        Raises WorkerError as soon as one worker exits with an error (with its log), and
        TimeoutError if they are not done within `timeout` seconds; the caller's `with` block
        then ends and `stop()` ends the other workers.
        """
        deadline = time.monotonic() + timeout
        while True:
            self._record_listening()
            codes = [process.poll() for process in self.processes]
            for index, code in enumerate(codes):
                if code not in (None, 0):
                    raise WorkerError(f"worker {index} exited with code {code}; its log ends with:\n"
                                      f"{self.log(index)[-3000:]}")
            if all(code == 0 for code in codes):
                return [self.log(index) for index in range(self.num_workers)]
            if time.monotonic() > deadline:
                raise TimeoutError(f"workers still running after {timeout:g} s "
                                   f"(exit codes so far: {codes})")
            time.sleep(0.05)

    def log(self, index: int) -> str:
        """What worker `index` wrote to stdout and stderr so far."""
        for log in self._logs:
            log.flush()
        path = self.directory / f"worker_{index}.log"
        return path.read_text(errors="replace") if path.exists() else ""

    def _record_listening(self) -> None:
        import psutil

        for index, process in enumerate(self.processes):
            with contextlib.suppress(psutil.Error):
                for connection in psutil.Process(process.pid).net_connections(kind="inet"):
                    if connection.status == psutil.CONN_LISTEN:
                        self.listening[index].add(f"{connection.laddr.ip}:{connection.laddr.port}")

    @property
    def pids(self) -> list[int]:
        return [process.pid for process in self.processes]

    def stop(self) -> None:
        """End every worker that still runs (SIGTERM, then SIGKILL), reap it, close the logs
        and delete the scratch folder. Safe to call more than once."""
        if self.directory is not None:
            _cleanup(self.processes, self.directory)   # in full, even after an interrupted call
        if self._finalizer is not None:
            self._finalizer.detach()
        for log in self._logs:
            log.close()
        self._logs = []

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()
        return False


def _cleanup(processes, directory, grace: float = 3.0) -> None:
    """SIGTERM each live process group, wait up to `grace` s, then SIGKILL; reap them all and
    delete the scratch folder."""
    for process in processes:
        if process.poll() is None:
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(process.pid, signal.SIGTERM)
    deadline = time.monotonic() + grace
    for process in processes:
        try:
            process.wait(timeout=max(0.0, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(process.pid, signal.SIGKILL)
            process.wait()
    shutil.rmtree(directory, ignore_errors=True)


def launch_workers(script=WORKER_SCRIPT, num_workers: int = 2, args=()) -> WorkerGroup:
    """Start `num_workers` processes `python script *args --output-dir DIR` as a local cluster.

    Each gets TF_CONFIG for its own index in a cluster of free ports on 127.0.0.1 (nothing
    leaves the machine). Use it as a context manager: on leaving the block, normally or by an
    exception or an interrupt, every worker still running is ended (SIGTERM to its process
    group, SIGKILL after 3 s) and the scratch folder DIR removed.

        with cluster.launch_workers(num_workers=2, args=["--epochs", 3]) as workers:
            ...  # write inputs to workers.directory
            logs = workers.wait()
            ...  # read results from workers.directory

    The workers start when the block is entered: write their inputs (a saved model, arrays)
    to a folder first and pass it in `args`; they write results to `workers.directory`,
    which exists until the block ends.
    """
    return WorkerGroup(script, num_workers, args)
