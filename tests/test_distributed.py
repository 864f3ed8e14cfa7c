"""Tests for utils.distributed (logical devices, the distributed train step) and utils.cluster (TF_CONFIG and the
local worker launcher, which must never leave a process behind)."""

import json
import os
import pathlib
import socket
import subprocess
import sys
import textwrap
import time

import numpy as np
import psutil
import pytest

import utils  # noqa: F401
from utils import cluster, distributed

ROOT = pathlib.Path(__file__).resolve().parents[1]


def _run_python(code: str, timeout: int = 240) -> str:
    """Run code in a fresh interpreter (TensorFlow's devices are fixed once per process)."""
    result = subprocess.run([sys.executable, "-c", textwrap.dedent(code)], capture_output=True, text=True,
                            timeout=timeout, cwd=ROOT, env=dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3"))
    assert result.returncode == 0, result.stderr[-3000:]
    return result.stdout


# ---------------------------------------------------------------- logical devices, train step

def test_split_cpu_and_mirrored_training_in_a_fresh_process():
    out = _run_python("""
        import utils, keras, numpy as np, tensorflow as tf
        from utils import distributed
        names = distributed.split_cpu(2)
        assert names == [d.name for d in tf.config.list_logical_devices("CPU")] and len(names) == 2, names
        assert distributed.split_cpu(2) == names  # again with the same number: harmless
        utils.set_seed(0)
        try:
            distributed.split_cpu(3)
        except RuntimeError as error:
            assert "before" in str(error) and "3" in str(error)
        else:
            raise AssertionError("split_cpu(3) after start-up should raise")

        strategy = tf.distribute.MirroredStrategy(names)
        rng = np.random.default_rng(0)
        x = rng.normal(size=(64, 6, 6, 1)).astype("float32")
        y = rng.integers(0, 3, 64)
        def build():
            return keras.Sequential([keras.Input((6, 6, 1)), keras.layers.Conv2D(4, 3), keras.layers.Flatten(),
                                     keras.layers.Dense(3)])
        init = build().get_weights()
        loss_fn = keras.losses.SparseCategoricalCrossentropy(from_logits=True, reduction=None)

        def train(step_strategy, steps):
            with step_strategy.scope():
                model = build(); model.set_weights(init); optimizer = keras.optimizers.SGD(0.1)
            step = distributed.make_train_step(step_strategy, model, optimizer, loss_fn, 16)
            data = step_strategy.distribute_datasets_from_function(distributed.sharded_dataset_fn(x, y, 16))
            losses = [float(step(a, b)) for a, b in data][:steps]
            return model, losses

        mirrored, mirrored_losses = train(strategy, 4)
        single, single_losses = train(tf.distribute.get_strategy(), 4)
        # Reference: a plain GradientTape step on each global batch of 16, by hand.
        reference = build(); reference.set_weights(init)
        mean_loss = keras.losses.SparseCategoricalCrossentropy(from_logits=True)
        for start in range(0, 64, 16):
            with tf.GradientTape() as tape:
                loss = mean_loss(y[start:start + 16], reference(x[start:start + 16], training=True))
            for v, g in zip(reference.trainable_variables, tape.gradient(loss, reference.trainable_variables)):
                v.assign(v - 0.1 * g)
        for a, b, c in zip(mirrored.weights, single.weights, reference.weights):
            copies = distributed.replica_values(a, strategy)
            assert len(copies) == 2 and np.array_equal(copies[0], copies[1])
            np.testing.assert_allclose(copies[0], c.numpy(), atol=1e-6)
            np.testing.assert_allclose(b.numpy(), c.numpy(), atol=1e-6)
        np.testing.assert_allclose(mirrored_losses, single_losses, atol=1e-6)
        print("ok")
    """)
    assert out.strip().endswith("ok")


def test_sharded_dataset_covers_each_global_batch_once():
    import tensorflow as tf

    x = np.arange(40, dtype="float32").reshape(40, 1)
    y = np.arange(40)
    dataset_fn = distributed.sharded_dataset_fn(x, y, 8)
    seen = []
    for pipeline in range(2):  # two workers, one replica each
        context = tf.distribute.InputContext(num_input_pipelines=2, input_pipeline_id=pipeline,
                                             num_replicas_in_sync=2)
        seen.append([labels.numpy().tolist() for _, labels in dataset_fn(context)])
    for step, (first, second) in enumerate(zip(*seen)):
        assert sorted(first + second) == list(range(8 * step, 8 * step + 8))
    assert len(seen[0]) == 5  # 40 examples / global batch 8


# ---------------------------------------------------------------- TF_CONFIG

def test_free_ports_are_distinct_and_bindable_on_localhost():
    ports = cluster.free_ports(4)
    assert len(set(ports)) == 4
    for port in ports:
        with socket.socket() as sock:
            sock.bind(("127.0.0.1", port))


def test_tf_config_matches_tensorflows_cluster_resolver():
    import tensorflow as tf

    spec = cluster.cluster_spec(2, ports=[2222, 2223])
    assert spec == {"worker": ["127.0.0.1:2222", "127.0.0.1:2223"]}
    text = cluster.tf_config(spec, "worker", 1)
    assert json.loads(text) == {"cluster": spec, "task": {"type": "worker", "index": 1}}
    old = os.environ.get("TF_CONFIG")
    os.environ["TF_CONFIG"] = text
    try:
        resolver = tf.distribute.cluster_resolver.TFConfigClusterResolver()
        assert resolver.cluster_spec().as_dict() == spec
        assert (resolver.task_type, resolver.task_id) == ("worker", 1)
    finally:
        if old is None:
            del os.environ["TF_CONFIG"]
        else:
            os.environ["TF_CONFIG"] = old



# ---------------------------------------------------------------- the launcher

SLEEPER = textwrap.dedent("""
    import json, os, sys, time
    task = json.loads(os.environ["TF_CONFIG"])["task"]
    print("worker", task["index"], "of", json.loads(os.environ["TF_CONFIG"])["cluster"], flush=True)
    if "--crash" in sys.argv and task["index"] == 1:
        sys.exit(3)
    if "--done" in sys.argv:
        sys.exit(0)
    time.sleep(600)
""")


@pytest.fixture
def sleeper(tmp_path):
    path = tmp_path / "sleeper.py"
    path.write_text(SLEEPER)
    return path


def _gone(pids, within=10.0):
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        alive = [pid for pid in pids if psutil.pid_exists(pid) and psutil.Process(pid).status() != psutil.STATUS_ZOMBIE]
        if not alive:
            return True
        time.sleep(0.05)
    return False


def test_launcher_kills_its_workers_when_the_block_raises(sleeper):
    with pytest.raises(RuntimeError, match="cell failed"):
        with cluster.launch_workers(sleeper, num_workers=3) as workers:
            pids = workers.pids
            directory = workers.directory
            time.sleep(0.3)
            assert all(process.poll() is None for process in workers.processes)
            raise RuntimeError("cell failed")
    assert _gone(pids)
    assert not directory.exists()


def test_launcher_kills_workers_that_ignore_sigterm(tmp_path):
    stubborn = tmp_path / "stubborn.py"
    stubborn.write_text("import signal, time\nsignal.signal(signal.SIGTERM, signal.SIG_IGN)\n"
                        "print('ready', flush=True)\ntime.sleep(600)\n")
    with cluster.launch_workers(stubborn, num_workers=2) as workers:
        pids = workers.pids
        deadline = time.monotonic() + 20
        while not all("ready" in workers.log(i) for i in range(2)) and time.monotonic() < deadline:
            time.sleep(0.05)
    assert _gone(pids)


def test_an_interrupted_stop_is_finished_by_the_next_one(sleeper, monkeypatch):
    # Ctrl-C during the grace period of stop(): calling stop() again still ends every worker
    workers = cluster.launch_workers(sleeper, num_workers=2).start()
    pids, directory = workers.pids, workers.directory

    def interrupted(processes, directory, grace=3.0):
        raise KeyboardInterrupt

    with monkeypatch.context() as patch:
        patch.setattr(cluster, "_cleanup", interrupted)
        with pytest.raises(KeyboardInterrupt):
            workers.stop()
    assert not _gone(pids)
    workers.stop()
    assert _gone(pids) and not directory.exists()


def test_launcher_reports_a_crashed_worker_and_ends_the_others(sleeper):
    with pytest.raises(cluster.WorkerError, match="worker 1 exited with code 3"):
        with cluster.launch_workers(sleeper, num_workers=2, args=["--crash"]) as workers:
            pids = workers.pids
            workers.wait(timeout=30)
    assert _gone(pids)


def test_launcher_times_out_and_cleans_up(sleeper):
    with pytest.raises(TimeoutError):
        with cluster.launch_workers(sleeper, num_workers=2) as workers:
            pids = workers.pids
            workers.wait(timeout=0.5)
    assert _gone(pids)


def test_launcher_gives_each_worker_its_tf_config_on_localhost(sleeper):
    with cluster.launch_workers(sleeper, num_workers=2, args=["--done"]) as workers:
        logs = workers.wait(timeout=30)
        spec = workers.cluster
    assert all(address.startswith("127.0.0.1:") for address in spec["worker"])
    assert [log.split()[1] for log in logs] == ["0", "1"]
    assert all(str(spec) in log for log in logs)


def test_launcher_ends_workers_when_the_parent_process_dies(sleeper, tmp_path):
    """A kernel that exits (or is restarted) without leaving the block still ends its workers."""
    pid_file = tmp_path / "pids.json"
    code = f"""
        import json, sys
        sys.path.insert(0, {str(ROOT)!r})
        from utils import cluster
        workers = cluster.launch_workers({str(sleeper)!r}, num_workers=2).start()
        open({str(pid_file)!r}, "w").write(json.dumps(workers.pids))
        sys.exit(0)  # leave without stop()
    """
    subprocess.run([sys.executable, "-c", textwrap.dedent(code)], check=True, timeout=60,
                   env=dict(os.environ, TMPDIR=str(tmp_path)))
    assert _gone(json.loads(pid_file.read_text()))


def test_worker_exits_when_its_parent_is_killed(tmp_path):
    """A kernel killed with SIGKILL cannot end its workers; the worker script notices that its
    parent is gone and exits by itself."""
    pid_file = tmp_path / "pids.json"
    code = f"""
        import json, sys, time
        sys.path.insert(0, {str(ROOT)!r})
        from utils import cluster
        workers = cluster.launch_workers(num_workers=2, args=["--input-dir", "nowhere", "--hold", 600]).start()
        open({str(pid_file)!r}, "w").write(json.dumps(workers.pids))
        time.sleep(600)
    """
    # The scratch folder of the killed launcher stays behind: keep it in tmp_path.
    parent = subprocess.Popen([sys.executable, "-c", textwrap.dedent(code)], env=dict(os.environ, TMPDIR=str(tmp_path)))
    try:
        deadline = time.monotonic() + 60
        while not pid_file.exists() and time.monotonic() < deadline:
            time.sleep(0.05)
        pids = json.loads(pid_file.read_text())
        time.sleep(1.0)
        assert all(psutil.pid_exists(pid) for pid in pids)
    finally:
        parent.kill()
        parent.wait()
    assert _gone(pids)


def test_multiworker_training_gives_identical_weights(tmp_path):
    """Two real MultiWorkerMirroredStrategy workers on 127.0.0.1 end with identical weights,
    equal to one device trained on the same global batches."""
    import keras
    import tensorflow as tf

    rng = np.random.default_rng(0)
    x = rng.normal(size=(64, 4)).astype("float32")
    y = rng.integers(0, 3, 64)
    keras.utils.set_random_seed(0)
    model = keras.Sequential([keras.Input((4,)), keras.layers.Dense(8, activation="relu"), keras.layers.Dense(3)])
    model.save(tmp_path / "model.keras")
    np.savez(tmp_path / "data.npz", x=x, y=y)
    with cluster.launch_workers(num_workers=2, args=["--input-dir", tmp_path, "--epochs", 2,
                                                         "--global-batch-size", 16]) as workers:
        workers.wait(timeout=300)
        pids = workers.pids
        results = [dict(np.load(workers.directory / f"worker_{i}.npz")) for i in range(2)]
        listening = set().union(*workers.listening)
    assert _gone(pids)
    loss_fn = keras.losses.SparseCategoricalCrossentropy(from_logits=True, reduction=None)
    step = distributed.make_train_step(tf.distribute.get_strategy(), model, keras.optimizers.SGD(0.1), loss_fn, 16)
    losses = [float(step(x[i:i + 16], y[i:i + 16])) for _ in range(2) for i in range(0, 64, 16)]
    for i, variable in enumerate(model.weights):
        assert np.array_equal(results[0][f"weight_{i}"], results[1][f"weight_{i}"])
        np.testing.assert_allclose(results[0][f"weight_{i}"], variable.numpy(), atol=1e-5)
    np.testing.assert_allclose(results[0]["losses"], losses, atol=1e-5)
    assert listening, "the workers' listening sockets were not seen"
