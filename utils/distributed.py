"""Training on several devices and several processes with `tf.distribute`, on one machine.

Taught in: notebooks/08_multi_device_training.ipynb

- `split_cpu(num_devices)`: split the CPU into logical devices, so that `MirroredStrategy`
  has several replicas on a machine without GPUs. Call it before TensorFlow initialises its
  runtime (before the first tensor, model or strategy is created).
- `replica_values(variable, strategy)`: the copies of a mirrored variable, one per replica.
- `sharded_dataset_fn`, `make_train_step`: the input pipeline and the custom training loop
  (`strategy.run`, all-reduce, `tf.nn.compute_average_loss`) that run unchanged on one
  device, on several devices and on several machines.
- `free_ports`, `cluster_spec`, `tf_config`: the `TF_CONFIG` that a multi-worker cluster reads.
- `launch_workers(script, num_workers)`: a context manager that starts a local cluster of
  worker processes on 127.0.0.1 and always ends them, even when the block raises.

The worker processes are plain `python script ...` processes with `TF_CONFIG` in their
environment: exactly what a real cluster runs on each machine, with host names instead of
127.0.0.1.
"""

from __future__ import annotations

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

from utils import validation

LOCALHOST = "127.0.0.1"
WORKER_SCRIPT = pathlib.Path(__file__).with_name("_multiworker_worker.py")


# --------------------------------------------------------------------------------------
# Logical devices
# --------------------------------------------------------------------------------------

def split_cpu(num_devices: int = 2) -> list[str]:
    """Split the (first) physical CPU into `num_devices` logical CPU devices.

    Each logical device is a separate TensorFlow device (`/device:CPU:0`, `/device:CPU:1`,
    ...) that `tf.distribute.MirroredStrategy` can place a replica on; they share the same
    cores, so this shows the mechanics of data parallelism, not a speed-up.

    TensorFlow fixes its devices when its runtime starts (the first op, variable, model or
    strategy). Call this first: afterwards TensorFlow raises RuntimeError, which is re-raised
    here with what to do. Calling it again with the same number is harmless.

    Returns the names of the logical CPU devices.
    """
    num_devices = validation.as_int("num_devices", num_devices, minimum=1, maximum=64)
    import tensorflow as tf

    cpus = tf.config.list_physical_devices("CPU")
    try:
        tf.config.set_logical_device_configuration(
            cpus[0], [tf.config.LogicalDeviceConfiguration() for _ in range(num_devices)])
    except RuntimeError as error:
        existing = tf.config.list_logical_devices("CPU")
        if len(existing) == num_devices:
            return [device.name for device in existing]
        raise RuntimeError(
            f"split_cpu: TensorFlow's runtime is already initialised with {len(existing)} logical "
            f"CPU device(s), so it cannot be split into {num_devices}. Call split_cpu before "
            "anything creates a tensor, a model or a strategy (restart the kernel and run the "
            f"Setup cell first). TensorFlow said: {error}") from None
    return [device.name for device in tf.config.list_logical_devices("CPU")]


def replica_values(variable, strategy) -> list:
    """The per-replica copies of a (Keras or TensorFlow) variable as NumPy arrays.

    Under `MirroredStrategy` a variable created in `strategy.scope()` is a MirroredVariable
    holding one copy per replica (device); outside a strategy there is one copy.
    """
    if variable is None:
        raise TypeError("variable: expected a keras.Variable or tf.Variable, got None")
    if not hasattr(strategy, "experimental_local_results"):
        raise TypeError(f"strategy: expected a tf.distribute.Strategy, got {type(strategy).__name__}")
    value = getattr(variable, "value", variable)  # keras.Variable wraps the tf variable
    if not hasattr(value, "numpy") and not hasattr(value, "values"):
        raise TypeError(f"variable: expected a keras.Variable or tf.Variable, got {type(variable).__name__}")
    return [copy.numpy() for copy in strategy.experimental_local_results(value)]


# --------------------------------------------------------------------------------------
# A custom training loop that runs unchanged under any strategy
# --------------------------------------------------------------------------------------

def sharded_dataset_fn(x, y, global_batch_size: int):
    """A `dataset_fn(input_context)` for `strategy.distribute_datasets_from_function`.

    x: [N, ...] inputs (e.g. NHWC images), y: [N] labels. Each replica gets batches of
    global_batch_size / num_replicas consecutive examples; step k of the whole cluster uses
    examples [k * global_batch_size, (k + 1) * global_batch_size), whatever the number of
    workers and devices (the last incomplete global batch is dropped). No shuffling: shuffle
    x, y beforehand with a fixed seed.
    """
    x = validation.as_array("x", x, dtype_kind="f", min_size=1)
    y = validation.as_array("y", y, ndim=1, dtype_kind="iu")
    if len(y) != len(x):
        raise ValueError(f"y: expected {len(x)} labels to match x, got {len(y)}")
    global_batch_size = validation.as_int("global_batch_size", global_batch_size, minimum=1, maximum=len(x))

    def dataset_fn(input_context):
        import tensorflow as tf

        per_replica = input_context.get_per_replica_batch_size(global_batch_size)
        if per_replica * input_context.num_replicas_in_sync != global_batch_size:
            raise ValueError(f"global_batch_size: expected a multiple of the {input_context.num_replicas_in_sync} "
                             f"replicas, got {global_batch_size}")
        usable = len(x) // global_batch_size * global_batch_size
        dataset = tf.data.Dataset.from_tensor_slices((x[:usable], y[:usable])).batch(per_replica)
        # Input pipeline p (one per worker) keeps batches p, p + P, p + 2P, ...; its replicas
        # take consecutive ones, so one step of the cluster covers one global batch.
        replicas_per_pipeline = input_context.num_replicas_in_sync // input_context.num_input_pipelines
        dataset = dataset.batch(replicas_per_pipeline)
        dataset = dataset.shard(input_context.num_input_pipelines, input_context.input_pipeline_id)
        return dataset.unbatch()

    return dataset_fn


def make_train_step(strategy, model, optimizer, loss_fn, global_batch_size: int):
    """A `tf.function` `train_step(images, labels)` for data-parallel training under `strategy`.

    Each replica computes the loss of its share of the global batch, scaled by
    `tf.nn.compute_average_loss(per_example_loss, global_batch_size)` (sum / global batch),
    so that the gradients the optimizer sums over replicas (the all-reduce inside
    `apply_gradients`) equal the gradient of the mean loss over the global batch. Returns the
    mean loss over the global batch. `loss_fn` must return per-example losses
    (`reduction=None`). Model and optimizer must have been created in `strategy.scope()`.
    Works unchanged with MirroredStrategy, MultiWorkerMirroredStrategy and the default
    (single-device) strategy.
    """
    if not hasattr(strategy, "run"):
        raise TypeError(f"strategy: expected a tf.distribute.Strategy, got {type(strategy).__name__}")
    if not hasattr(model, "trainable_variables"):
        raise TypeError(f"model: expected a keras.Model, got {type(model).__name__}")
    if not hasattr(optimizer, "apply_gradients"):
        raise TypeError(f"optimizer: expected a keras optimizer, got {type(optimizer).__name__}")
    if getattr(loss_fn, "reduction", None) not in (None, "none"):
        raise ValueError(f"loss_fn: expected per-example losses (reduction=None), got reduction={loss_fn.reduction!r}")
    global_batch_size = validation.as_int("global_batch_size", global_batch_size, minimum=1)
    import tensorflow as tf

    @tf.function
    def train_step(images, labels):
        def replica_step(images, labels):
            with tf.GradientTape() as tape:
                per_example_loss = loss_fn(labels, model(images, training=True))
                loss = tf.nn.compute_average_loss(per_example_loss, global_batch_size=global_batch_size)
                loss += tf.nn.scale_regularization_loss(sum(model.losses)) if model.losses else 0.0
            gradients = tape.gradient(loss, model.trainable_variables)
            optimizer.apply_gradients(zip(gradients, model.trainable_variables))
            return loss

        per_replica_losses = strategy.run(replica_step, args=(images, labels))
        return strategy.reduce("SUM", per_replica_losses, axis=None)

    return train_step


# --------------------------------------------------------------------------------------
# Cluster description
# --------------------------------------------------------------------------------------

def free_ports(count: int, host: str = LOCALHOST) -> list[int]:
    """`count` distinct TCP ports that are free on `host` right now.

    The operating system picks them (bind to port 0); the sockets are closed again so that the
    workers can bind them. Another program could take one in between: rare, and the worker
    then fails with a clear "address in use" error.
    """
    count = validation.as_int("count", count, minimum=1, maximum=1000)
    host = _as_host("host", host)
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
    """The `cluster` part of TF_CONFIG: {"worker": ["host:port", ...]}.

    ports: one port per worker; by default free ports chosen now (`free_ports`).
    """
    num_workers = validation.as_int("num_workers", num_workers, minimum=1, maximum=64)
    host = _as_host("host", host)
    if ports is None:
        ports = free_ports(num_workers, host)
    ports = [validation.as_int("ports", port, minimum=1, maximum=65535) for port in ports]
    if len(ports) != num_workers:
        raise ValueError(f"ports: expected {num_workers} ports (one per worker), got {len(ports)}")
    if len(set(ports)) != len(ports):
        raise ValueError(f"ports: expected distinct ports, got {ports}")
    return {"worker": [f"{host}:{port}" for port in ports]}


def tf_config(cluster: dict, task_type: str = "worker", task_index: int = 0) -> str:
    """The TF_CONFIG environment variable (a JSON string) for one task of `cluster`.

    cluster: {"worker": ["host:port", ...], ...} as from `cluster_spec`.
    task_type, task_index: which entry of the cluster this process is.
    """
    if not isinstance(cluster, dict) or not cluster:
        raise TypeError(f"cluster: expected a dict like {{'worker': ['host:port', ...]}}, got {cluster!r}"[:200])
    for job, addresses in cluster.items():
        if not isinstance(job, str) or not isinstance(addresses, (list, tuple)) or not addresses:
            raise ValueError(f"cluster: expected job name -> non-empty list of 'host:port', got {job!r}: {addresses!r}")
        for address in addresses:
            if not isinstance(address, str) or address.count(":") != 1 or not address.split(":")[1].isdigit():
                raise ValueError(f"cluster: expected addresses like '127.0.0.1:12345', got {address!r} in job {job!r}")
    validation.as_choice("task_type", task_type, tuple(cluster))
    task_index = validation.as_int("task_index", task_index, minimum=0, maximum=len(cluster[task_type]) - 1)
    return json.dumps({"cluster": cluster, "task": {"type": task_type, "index": task_index}})


def _as_host(name: str, host) -> str:
    if not isinstance(host, str) or not host:
        raise TypeError(f"{name}: expected a host name or address string, got {host!r}")
    return host


# --------------------------------------------------------------------------------------
# Local worker processes
# --------------------------------------------------------------------------------------

class WorkerError(RuntimeError):
    """A worker process failed; the message ends with the tail of its log."""


class WorkerGroup:
    """Worker processes of a local cluster; use it through `launch_workers`.

    Attributes: `cluster` (the cluster spec), `directory` (a scratch folder shared with the
    workers, deleted on exit), `processes` (subprocess.Popen objects), `pids`.
    """

    def __init__(self, script, num_workers, args=(), *, timeout=120.0, host=LOCALHOST, env=None,
                 keep_directory=False):
        script = pathlib.Path(script) if isinstance(script, (str, os.PathLike)) else script
        if not isinstance(script, pathlib.Path):
            raise TypeError(f"script: expected a path to a Python file, got {type(script).__name__}")
        if not script.is_file():
            raise ValueError(f"script: expected an existing Python file, got {str(script)!r}")
        self.script = script.resolve()
        self.num_workers = validation.as_int("num_workers", num_workers, minimum=1, maximum=16)
        if isinstance(args, (str, bytes)) or not all(isinstance(a, (str, os.PathLike, int, float)) for a in args):
            raise TypeError(f"args: expected a list of command-line arguments, got {args!r}"[:200])
        self.args = [str(a) for a in args]
        self.timeout = validation.as_float("timeout", timeout, minimum=0, exclusive_minimum=True)
        self.host = _as_host("host", host)
        if env is not None and not isinstance(env, dict):
            raise TypeError(f"env: expected a dict of extra environment variables, got {type(env).__name__}")
        self.extra_env = dict(env or {})
        self.keep_directory = validation.as_bool("keep_directory", keep_directory)
        self.cluster = None
        self.directory = None
        self.processes: list[subprocess.Popen] = []
        # The addresses each worker listened on (TCP), as seen by `wait` while it ran.
        self.listening: list[set[str]] = [set() for _ in range(self.num_workers)]
        self._logs = []
        self._finalizer = None

    # -- life cycle --------------------------------------------------------------------
    def start(self) -> "WorkerGroup":
        self.directory = pathlib.Path(tempfile.mkdtemp(prefix="workers_"))
        self.cluster = cluster_spec(self.num_workers, host=self.host)
        # End the workers even if this process exits without leaving the `with` block
        # (finalize objects also run at interpreter exit). The list fills in below.
        self._finalizer = weakref.finalize(self, _cleanup, self.processes, self.directory, self.keep_directory)
        try:
            for index in range(self.num_workers):
                env = dict(os.environ)
                env.update(self.extra_env)
                env["TF_CONFIG"] = tf_config(self.cluster, "worker", index)
                env.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
                env["PYTHONPATH"] = os.pathsep.join(
                    [str(pathlib.Path(__file__).resolve().parents[1])] +
                    ([env["PYTHONPATH"]] if env.get("PYTHONPATH") else []))
                log = open(self.directory / f"worker_{index}.log", "wb")
                self._logs.append(log)
                process = subprocess.Popen(
                    [sys.executable, str(self.script), *self.args, "--output-dir", str(self.directory)],
                    env=env, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                    start_new_session=True)  # its own process group: we can end it and its children
                self.processes.append(process)
        except BaseException:
            self.stop()
            raise
        return self

    def wait(self, timeout: float | None = None) -> list[str]:
        """Wait until every worker has exited; returns their logs (text).

        Raises WorkerError as soon as one worker exits with an error (with its log), and
        TimeoutError if they are not done within `timeout` seconds (default: the group's).
        The caller's `with` block then ends and `stop()` ends the other workers.
        """
        timeout = self.timeout if timeout is None else validation.as_float(
            "timeout", timeout, minimum=0, exclusive_minimum=True)
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
        index = validation.as_int("index", index, minimum=0, maximum=self.num_workers - 1)
        for log in self._logs:
            log.flush()
        path = self.directory / f"worker_{index}.log"
        return path.read_text(errors="replace") if path.exists() else ""

    def _record_listening(self) -> None:
        import psutil

        for index, process in enumerate(self.processes):
            try:
                for connection in psutil.Process(process.pid).net_connections(kind="inet"):
                    if connection.status == psutil.CONN_LISTEN:
                        self.listening[index].add(f"{connection.laddr.ip}:{connection.laddr.port}")
            except psutil.Error:
                pass

    @property
    def pids(self) -> list[int]:
        return [process.pid for process in self.processes]

    def alive(self) -> list[bool]:
        """Whether each worker process is still running."""
        return [process.poll() is None for process in self.processes]

    def stop(self) -> None:
        """End every worker that still runs (SIGTERM, then SIGKILL), reap it, close the logs
        and delete the scratch folder. Safe to call more than once."""
        _kill_all(self.processes)
        for log in self._logs:
            log.close()
        self._logs = []
        if self._finalizer is not None:
            self._finalizer.detach()
            self._finalizer = None
        if self.directory is not None and not self.keep_directory:
            shutil.rmtree(self.directory, ignore_errors=True)

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()
        return False


def _cleanup(processes, directory, keep_directory) -> None:
    _kill_all(processes)
    if not keep_directory:
        shutil.rmtree(directory, ignore_errors=True)


def _kill_all(processes, grace: float = 3.0) -> None:
    """SIGTERM each live process group, wait up to `grace` s, then SIGKILL; reap them all."""
    for process in processes:
        if process.poll() is None:
            try:
                os.killpg(process.pid, signal.SIGTERM)
            except (ProcessLookupError, PermissionError):
                pass
    deadline = time.monotonic() + grace
    for process in processes:
        try:
            process.wait(timeout=max(0.0, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            try:
                os.killpg(process.pid, signal.SIGKILL)
            except (ProcessLookupError, PermissionError):
                pass
            process.wait()


def launch_workers(script=WORKER_SCRIPT, num_workers: int = 2, args=(), *, timeout: float = 120.0,
                   host: str = LOCALHOST, env: dict | None = None) -> WorkerGroup:
    """Start `num_workers` processes `python script *args --output-dir DIR` as a local cluster.

    Each gets TF_CONFIG for its own index in a cluster of free ports on `host` (127.0.0.1 by
    default, so nothing leaves the machine). Use it as a context manager: on leaving the
    block, normally or by an exception or an interrupt, every worker still running is ended
    (SIGTERM to its process group, SIGKILL after 3 s) and the scratch folder DIR removed.

        with distributed.launch_workers(num_workers=2, args=["--epochs", 3]) as workers:
            ...  # write inputs to workers.directory
            logs = workers.wait()
            ...  # read results from workers.directory

    The workers start when the block is entered: write their inputs (a saved model, arrays)
    to a folder first and pass it in `args`; they write results to `workers.directory`,
    which exists until the block ends.
    """
    return WorkerGroup(script, num_workers, args, timeout=timeout, host=host, env=env)
