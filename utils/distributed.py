"""Training on several devices and several processes with `tf.distribute`, on one machine.

Taught in: notebooks/08_multi_device_training.ipynb

- `split_cpu(num_devices)`: split the CPU into logical devices, so that `MirroredStrategy`
  has several replicas on a machine without GPUs (call it before TensorFlow starts its runtime).
- `replica_values(variable, strategy)`: the copies of a mirrored variable, one per replica.
- `sharded_dataset_fn`, `make_train_step`: the input pipeline and the custom training loop
  (`strategy.run`, all-reduce, `tf.nn.compute_average_loss`) that run unchanged on one
  device, on several devices and on several machines (`utils.cluster` starts the workers).
"""

from __future__ import annotations


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
    """The per-replica copies of a (Keras or TensorFlow) variable as NumPy arrays (one per
    replica for a variable created in `strategy.scope()` of a MirroredStrategy)."""
    value = getattr(variable, "value", variable)  # keras.Variable wraps the tf variable
    return [copy.numpy() for copy in strategy.experimental_local_results(value)]


def sharded_dataset_fn(x, y, global_batch_size: int):
    """A `dataset_fn(input_context)` for `strategy.distribute_datasets_from_function`.

    x: [N, ...] inputs (e.g. NHWC images), y: [N] labels. Each replica gets batches of
    global_batch_size / num_replicas consecutive examples; step k of the whole cluster uses
    examples [k * global_batch_size, (k + 1) * global_batch_size), whatever the number of
    workers and devices (the last incomplete global batch is dropped). No shuffling: shuffle
    x, y beforehand with a fixed seed.
    """
    def dataset_fn(input_context):
        import tensorflow as tf

        per_replica = input_context.get_per_replica_batch_size(global_batch_size)
        usable = len(x) // global_batch_size * global_batch_size
        dataset = tf.data.Dataset.from_tensor_slices((x[:usable], y[:usable])).batch(per_replica)
        # Input pipeline p (one per worker) keeps batches p, p + P, p + 2P, ...; its replicas
        # take consecutive ones, so one step of the cluster covers one global batch.
        dataset = dataset.batch(input_context.num_replicas_in_sync // input_context.num_input_pipelines)
        dataset = dataset.shard(input_context.num_input_pipelines, input_context.input_pipeline_id)
        return dataset.unbatch()

    return dataset_fn


def make_train_step(strategy, model, optimizer, loss_fn, global_batch_size: int):
    """A `tf.function` `train_step(images, labels)` for data-parallel training under `strategy`
    (MirroredStrategy, MultiWorkerMirroredStrategy or the default one); returns the mean loss.

    Each replica scales the loss of its share by `tf.nn.compute_average_loss(per_example_loss,
    global_batch_size)`, so the gradients summed over replicas (the all-reduce inside
    `apply_gradients`) are those of the mean loss over the global batch. `loss_fn` returns
    per-example losses (`reduction=None`); model and optimizer are created in `strategy.scope()`.
    """
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
