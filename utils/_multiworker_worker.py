"""One worker of a MultiWorkerMirroredStrategy cluster: `python _multiworker_worker.py ...`.

Started by `utils.cluster.launch_workers` (or by hand on each machine of a real cluster, with
TF_CONFIG in the environment). Reads `model.keras` (untrained) and `data.npz` (`x`, `y`; each
worker keeps its shard of each global batch) from --input-dir, trains with
`utils.distributed.make_train_step` and writes to --output-dir `worker_<index>.npz` (weights
`weight_0`, ... and per-step `losses`) and `worker_<index>.json` (cluster, replicas, and with
--probe-keras what `model.fit` and `model.train_on_batch` do under this strategy).
"""

from __future__ import annotations

import argparse
import json
import os
import pathlib
import sys
import threading
import time


def _exit_with_parent(interval: float = 0.5) -> None:
    """End this worker if the process that started it dies, even by SIGKILL (a restarted
    kernel), when the launcher has no chance to end it: the worker is then re-parented."""
    parent = os.getppid()

    def watch():
        while True:
            time.sleep(interval)
            if os.getppid() != parent:
                os._exit(1)

    threading.Thread(target=watch, daemon=True).start()


def _short(error: BaseException) -> str:
    """`Type: message` with long tensor dumps in the middle of the message cut out."""
    text = " ".join(str(error).split())
    if len(text) > 220:
        text = text[:70] + " ... " + text[-140:]
    return f"{type(error).__name__}: {text}"


def _probe_keras(strategy, model_path, x, y, global_batch_size) -> dict:
    """Try Keras's own training entry points under this strategy; record what happens."""
    import keras
    import tensorflow as tf

    results = {}
    for name in ("fit", "train_on_batch"):
        with strategy.scope():
            model = keras.models.load_model(model_path, compile=False)
            model.compile(optimizer=keras.optimizers.SGD(0.01),
                          loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True))
        try:
            if name == "fit":
                dataset = tf.data.Dataset.from_tensor_slices((x, y)).batch(global_batch_size)
                model.fit(dataset, epochs=1, steps_per_epoch=1, verbose=0)
            else:
                model.train_on_batch(x[:global_batch_size], y[:global_batch_size])
            results[name] = "ok"
        except Exception as error:  # the point is to report it
            results[name] = _short(error)
    return results


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--input-dir", required=True, type=pathlib.Path)
    parser.add_argument("--output-dir", required=True, type=pathlib.Path)
    parser.add_argument("--epochs", type=int, default=1)
    parser.add_argument("--global-batch-size", type=int, default=64)
    parser.add_argument("--learning-rate", type=float, default=0.1)
    parser.add_argument("--probe-keras", action="store_true")
    parser.add_argument("--hold", type=float, default=0.0, help="wait this many seconds first (tests)")
    args = parser.parse_args(argv)
    _exit_with_parent()
    time.sleep(args.hold)

    import utils  # noqa: F401 (pins the Keras backend)
    import keras
    import numpy as np
    import tensorflow as tf

    from utils import distributed

    # The strategy must be created before any other TensorFlow op: it starts this process's
    # gRPC server and joins the cluster described by TF_CONFIG.
    strategy = tf.distribute.MultiWorkerMirroredStrategy()
    config = json.loads(os.environ["TF_CONFIG"])
    task = config["task"]
    utils.set_seed(0)

    arrays = np.load(args.input_dir / "data.npz")
    x, y = arrays["x"], arrays["y"]
    model_path = args.input_dir / "model.keras"
    report = {"task": task, "cluster": config["cluster"], "num_replicas_in_sync": strategy.num_replicas_in_sync}
    if args.probe_keras:
        report["keras"] = _probe_keras(strategy, model_path, x, y, args.global_batch_size)

    with strategy.scope():
        model = keras.models.load_model(model_path, compile=False)
        optimizer = keras.optimizers.SGD(args.learning_rate)
    loss_fn = keras.losses.SparseCategoricalCrossentropy(from_logits=True, reduction=None)
    train_step = distributed.make_train_step(strategy, model, optimizer, loss_fn, args.global_batch_size)
    dataset = strategy.distribute_datasets_from_function(
        distributed.sharded_dataset_fn(x, y, args.global_batch_size))
    losses = []
    for _ in range(args.epochs):
        for images, labels in dataset:
            losses.append(float(train_step(images, labels)))

    weights = {f"weight_{i}": v.numpy() for i, v in enumerate(model.weights)}
    np.savez(args.output_dir / f"worker_{task['index']}.npz", losses=np.array(losses), **weights)
    (args.output_dir / f"worker_{task['index']}.json").write_text(json.dumps(report))
    print(f"worker {task['index']} done: {len(losses)} steps, last loss {losses[-1]:.4f}", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
