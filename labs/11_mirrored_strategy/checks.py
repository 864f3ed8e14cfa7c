"""Checks for Lab 11 (a custom training loop with tf.distribute.MirroredStrategy).
References: tf.nn.compute_average_loss on Keras' per-example losses, and the same model
trained on one device with tf.GradientTape on the whole global batch, which a correct
synchronous data-parallel loop must reproduce step by step."""

import keras
import numpy as np
import tensorflow as tf

from utils.labcheck import CheckFailed, call, compare, compare_number, to_numpy, case_rng

GLOBAL_BATCH = 16
LEARNING_RATE = 0.1


def logical_cpus(count=2):
    """Split the CPU into `count` logical devices (only possible before TensorFlow has
    initialised its devices; otherwise the existing ones are kept). Returns their names."""
    cpu = tf.config.list_physical_devices("CPU")[0]
    try:
        tf.config.set_logical_device_configuration(
            cpu, [tf.config.LogicalDeviceConfiguration() for _ in range(count)])
    except RuntimeError:
        pass  # already initialised (e.g. another notebook ran in this process)
    return [device.name for device in tf.config.list_logical_devices("CPU")]


# (a replica's examples, global batch, classes); boundary: a last, partial batch where the
# replica holds fewer examples than global / replicas
LOSS_CASES = [(8, 16, 3), (5, 20, 4), (16, 16, 10), (3, 16, 5)]


def check_compute_loss(compute_loss):
    """compute_loss(labels, probabilities, global_batch_size) -> sum of per-example
    cross-entropies / global_batch_size."""
    rng = case_rng(110)
    for local, global_size, classes in LOSS_CASES:
        labels = rng.integers(0, classes, size=local)
        probabilities = tf.nn.softmax(rng.normal(size=(local, classes)).astype(np.float32)).numpy()
        per_example = keras.losses.sparse_categorical_crossentropy(labels, probabilities)
        expected = tf.nn.compute_average_loss(per_example, global_batch_size=global_size)
        case = f"a replica's batch of {local} examples, global_batch_size {global_size}"
        got = call("compute_loss", compute_loss, labels, probabilities, global_size, case=case, no_course_utils=True)
        compare_number("compute_loss", got, float(expected), case=case, rtol=1e-5, mistakes={
                           "this is the per-replica mean of the loss (divided by the replica's "
                           "own batch); the replicas' gradients are summed, so divide by the "
                           "global batch size.": float(tf.reduce_mean(per_example)),
                           "the loss is summed but not divided by the global batch size.":
                           float(tf.reduce_sum(per_example))},
                       hint="sum the per-example cross-entropies of THIS replica and divide by "
                            "the GLOBAL batch size (tf.nn.compute_average_loss): the replicas' "
                            "gradients are then summed, which gives the gradient of the mean "
                            "over the global batch.")
    return "3 cases agree with tf.nn.compute_average_loss"


def _data():
    rng = case_rng(111)
    x = rng.normal(size=(4 * GLOBAL_BATCH, 10)).astype(np.float32)
    y = rng.integers(0, 3, size=4 * GLOBAL_BATCH)
    return x, y


def _make_model():
    keras.utils.set_random_seed(112)
    return keras.Sequential([keras.Input(shape=(10,)), keras.layers.Dense(16, activation="relu"),
                             keras.layers.Dense(3, activation="softmax")])


def _reference_run(x, y):
    model, optimizer = _make_model(), keras.optimizers.SGD(LEARNING_RATE)
    losses = []
    for start in range(0, len(x), GLOBAL_BATCH):
        xb, yb = x[start:start + GLOBAL_BATCH], y[start:start + GLOBAL_BATCH]
        with tf.GradientTape() as tape:
            loss = tf.reduce_mean(keras.losses.sparse_categorical_crossentropy(yb, model(xb, training=True)))
        optimizer.apply_gradients(zip(tape.gradient(loss, model.trainable_weights),
                                      model.trainable_weights))
        losses.append(float(loss))
    return model.get_weights(), losses


def check_train_step(make_train_step):
    """make_train_step(strategy, model, optimizer, global_batch_size) -> a function of one
    distributed batch returning the loss summed over replicas; four steps must reproduce
    single-device training on the global batches."""
    devices = logical_cpus()
    tf.get_logger().setLevel("ERROR")  # the strategy's INFO lines are not feedback
    strategy = tf.distribute.MirroredStrategy(devices)
    replicas = strategy.num_replicas_in_sync
    x, y = _data()
    with strategy.scope():
        model, optimizer = _make_model(), keras.optimizers.SGD(LEARNING_RATE)
    case = f"MirroredStrategy on {replicas} device(s), global batch {GLOBAL_BATCH}, SGD {LEARNING_RATE}"
    train_step = call("make_train_step", make_train_step, strategy, model, optimizer,
                      GLOBAL_BATCH, case=case, no_course_utils=True)
    if not callable(train_step):
        raise CheckFailed(f"make_train_step should return a function, got {type(train_step).__name__}.")
    dataset = tf.data.Dataset.from_tensor_slices((x, y)).batch(GLOBAL_BATCH)
    losses = []
    for step, batch in enumerate(strategy.experimental_distribute_dataset(dataset), start=1):
        loss = call("train_step", train_step, batch, case=f"step {step} of {case}", no_course_utils=True)
        value = to_numpy("the loss returned by train_step", loss)
        if value.size != 1:
            raise CheckFailed(f"train_step should return one number (the loss summed over "
                              f"replicas) at step {step}, got shape {value.shape}.",
                              "reduce the per-replica losses with strategy.reduce(\"SUM\", ..., "
                              "axis=None).")
        losses.append(float(value.reshape(())))
    expected_weights, expected_losses = _reference_run(x, y)
    compare("losses of the 4 steps", losses, expected_losses, case=case, rtol=1e-4,
            hint="each replica returns sum(its losses) / global batch size; the SUM over "
                 "replicas is then the mean loss of the global batch.")
    for index, (got, expected) in enumerate(zip(model.get_weights(), expected_weights)):
        compare(f"weight {index} ({model.weights[index].path}) after 4 steps", got, expected,
                case=case, atol=1e-5, rtol=1e-4,
                hint="compute the gradient of compute_loss(...) inside the replica function and "
                     "apply it there with optimizer.apply_gradients: the strategy sums the "
                     "replicas' gradients.")
    return f"4 steps on {replicas} replicas reproduce single-device training"
