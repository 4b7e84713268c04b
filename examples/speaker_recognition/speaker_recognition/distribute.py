"""Training on several devices and machines with ``tf.distribute``.

``--distribute`` of ``train`` picks one of ``DISTRIBUTIONS``:

- ``none``: the default device;
- ``mirrored``: ``tf.distribute.MirroredStrategy`` over every local GPU (or,
  without GPUs, over every logical CPU device), Keras's ``fit`` doing the rest;
- ``multi-worker``: ``tf.distribute.MultiWorkerMirroredStrategy``, one process
  per machine, configured by the ``TF_CONFIG`` environment variable.

Keras 3.15's ``fit`` cannot train under ``MultiWorkerMirroredStrategy`` (it
reduces the logged scalars with ``axis=0`` and its symbolic build passes a
tuple of per-replica batches to ``Strategy.reduce``; both raise), so
multi-worker training runs ``fit_multi_worker``: the same optimizer step,
callbacks and progress bar, in a loop of ``Strategy.run``.
"""

from __future__ import annotations

import json
import os
import sys
import time

import numpy as np

DISTRIBUTIONS = ("none", "mirrored", "multi-worker")


def make_strategy(kind: str):
    """The ``tf.distribute.Strategy`` for ``kind`` (one of ``DISTRIBUTIONS``).

    Create it before any other TensorFlow work: ``MultiWorkerMirroredStrategy``
    connects the workers named in ``TF_CONFIG`` and waits for all of them.

    Raises
    ------
    ValueError
        If ``kind`` is unknown, or ``multi-worker`` is asked for without a
        usable ``TF_CONFIG`` (the message says what is wrong with it).
    """
    import tensorflow as tf

    if kind not in DISTRIBUTIONS:
        raise ValueError(f"distribute must be one of {DISTRIBUTIONS}, got {kind!r}")
    if kind == "none":
        return tf.distribute.get_strategy()
    if kind == "mirrored":
        devices = tf.config.list_logical_devices("GPU") or tf.config.list_logical_devices("CPU")
        return tf.distribute.MirroredStrategy([device.name for device in devices])
    check_tf_config(os.environ.get("TF_CONFIG"))
    return tf.distribute.MultiWorkerMirroredStrategy()


def check_tf_config(text: str | None) -> dict:
    """Parse ``TF_CONFIG`` and check that it names a cluster and this worker's place in it.

    Raises
    ------
    ValueError
        Naming ``TF_CONFIG`` and what it lacks.
    """
    example = (
        '{"cluster": {"worker": ["host1:12345", "host2:12345"]}, '
        '"task": {"type": "worker", "index": 0}}'
    )
    if not text:
        raise ValueError(f"--distribute multi-worker needs TF_CONFIG set, e.g. {example}")
    try:
        config = json.loads(text)
    except json.JSONDecodeError as error:
        raise ValueError(f"TF_CONFIG is not valid JSON ({error})") from None
    cluster = config.get("cluster") if isinstance(config, dict) else None
    task = config.get("task") if isinstance(config, dict) else None
    if not isinstance(cluster, dict) or not isinstance(task, dict):
        raise ValueError(f"TF_CONFIG must hold 'cluster' and 'task' objects, e.g. {example}")
    members = cluster.get(task.get("type"))
    index = task.get("index")
    if (
        not isinstance(members, list)
        or not isinstance(index, int)
        or not 0 <= index < len(members)
    ):
        raise ValueError(
            f"TF_CONFIG's task {task} is not in its cluster {cluster}: 'type' must name a "
            "job of the cluster and 'index' a position in that job's list"
        )
    return config


def local_cluster(workers: int) -> list[dict]:
    """``TF_CONFIG`` values for ``workers`` processes on this machine (127.0.0.1, free ports).

    For trying multi-worker training on one machine: give process ``i`` the
    ``i``-th value, JSON-encoded, as its ``TF_CONFIG``.
    """
    import socket

    sockets = [socket.socket() for _ in range(workers)]
    for each in sockets:
        each.bind(("127.0.0.1", 0))
    ports = [each.getsockname()[1] for each in sockets]
    for each in sockets:
        each.close()
    cluster = {"worker": [f"127.0.0.1:{port}" for port in ports]}
    return [{"cluster": cluster, "task": {"type": "worker", "index": i}} for i in range(workers)]


def is_chief(strategy) -> bool:
    """Whether this process writes the run's files: always, except for the other workers.

    The chief is the ``chief`` task if the cluster has one, else worker 0.
    """
    resolver = getattr(strategy, "cluster_resolver", None)
    if resolver is None or not resolver.task_type:
        return True
    if resolver.task_type == "chief":
        return True
    has_chief = "chief" in resolver.cluster_spec().as_dict()
    return not has_chief and resolver.task_type == "worker" and resolver.task_id == 0


def worker_count(strategy) -> int:
    """How many processes take part (1 unless multi-worker)."""
    resolver = getattr(strategy, "cluster_resolver", None)
    if resolver is None or not resolver.task_type:
        return 1
    spec = resolver.cluster_spec().as_dict()
    return sum(len(spec.get(job, ())) for job in ("chief", "worker"))


def sum_over_workers(strategy, values: np.ndarray) -> np.ndarray:
    """``values`` (int64 counts) summed over every worker; every worker must call it."""
    import tensorflow as tf

    if worker_count(strategy) == 1:
        return np.asarray(values)
    local_replicas = len(strategy.extended.worker_devices)
    counts = tf.constant(np.asarray(values, np.int64))

    def contribution():
        replica = tf.distribute.get_replica_context().replica_id_in_sync_group
        return tf.where(replica % local_replicas == 0, counts, tf.zeros_like(counts))

    @tf.function
    def total():
        return strategy.reduce("SUM", strategy.run(contribution), axis=None)

    return total().numpy()


def copy_trained_state(source, target) -> None:
    """Copy the weights and optimizer state of ``source`` (a model being trained, under a
    strategy or not) into ``target`` (the same architecture, outside any strategy), so
    that ``target`` predicts and saves as ``source`` would; reads this worker's copies only."""
    target.set_weights(source.get_weights())
    if not source.optimizer.built:
        return
    if not target.optimizer.built:
        target.optimizer.build(target.trainable_variables)
    for into, value in zip(target.optimizer.variables, source.optimizer.variables, strict=True):
        into.assign(np.asarray(value))


def fit_multi_worker(
    model, strategy, dataset, global_batch: int, steps: int, epochs: int, callbacks, verbose: int
) -> None:
    """Train ``model`` (created in ``strategy``'s scope) like ``Model.fit`` does.

    Parameters
    ----------
    model : keras.Model
        Compiled with an optimizer and a loss taking ``(labels, probabilities)``.
    strategy : tf.distribute.Strategy
    dataset : tf.distribute.DistributedDataset
        Repeating batches of ``(clip, label)``, each replica's share of ``global_batch``.
    global_batch, steps, epochs : int
        Examples per step over all replicas, steps per epoch, epochs.
    callbacks : list of keras.callbacks.Callback
        Given ``on_train_begin``, ``on_epoch_begin``, ``on_epoch_end`` (with
        ``loss`` and ``accuracy`` over the epoch, averaged over every worker;
        the accuracy, like ``model.SpeakerAccuracy``, over rows naming a speaker)
        and ``on_train_end``.
    verbose : int
        0: silent; 1: a progress bar; 2: a line per epoch (the chief only shows them).
    """
    import keras
    import tensorflow as tf

    from speaker_recognition.model import speaker_rows

    loss_function = keras.losses.get(model.loss)
    if isinstance(loss_function, keras.losses.Loss):
        # A loss object reduces over the batch; its ``call`` gives one value per clip.
        loss_function = loss_function.call

    def replica_step(clips, labels):
        # Target probabilities (build_model's probability_targets) or class indices.
        if len(labels.shape) == 2:
            targets = tf.cast(labels, tf.float32)
            classes = tf.argmax(labels, -1, output_type=tf.int32)
            counted = speaker_rows(targets)  # a stranger's equal targets name no speaker
        else:
            targets = classes = tf.cast(labels, tf.int32)
            counted = tf.ones_like(classes, tf.float32)
        with tf.GradientTape() as tape:
            probabilities = model(clips, training=True)
            per_example = loss_function(targets, probabilities)
            loss = tf.nn.compute_average_loss(per_example, global_batch_size=global_batch)
            if model.losses:
                loss += tf.nn.scale_regularization_loss(tf.add_n(model.losses))
        variables = model.trainable_variables
        gradients = tape.gradient(loss, variables)
        model.optimizer.apply_gradients(zip(gradients, variables, strict=True))
        correct = tf.cast(
            tf.equal(tf.argmax(probabilities, -1, output_type=tf.int32), classes), "float32"
        )
        return tf.stack(
            [
                loss * global_batch,
                tf.reduce_sum(correct * counted),
                tf.reduce_sum(counted),
                tf.cast(tf.size(classes), "float32"),
            ]
        )

    @tf.function
    def train_step(iterator):
        clips, labels = next(iterator)
        totals = strategy.run(replica_step, args=(clips, labels))
        return strategy.reduce("SUM", totals, axis=None)

    callback_list = keras.callbacks.CallbackList(list(callbacks), model=model)
    show = verbose if is_chief(strategy) else 0
    iterator = iter(dataset)
    callback_list.on_train_begin()
    for epoch in range(epochs):
        callback_list.on_epoch_begin(epoch)
        if show:
            print(f"Epoch {epoch + 1}/{epochs}", flush=True)
        bar = (
            keras.utils.Progbar(steps, verbose=show, stateful_metrics=["loss", "accuracy"])
            if show == 1
            else None
        )
        started = time.perf_counter()
        totals = np.zeros(4)  # loss sum, speaker rows right, speaker rows, rows
        for step in range(steps):
            totals += train_step(iterator).numpy()
            logs = {"loss": totals[0] / totals[3], "accuracy": totals[1] / max(totals[2], 1)}
            if bar is not None:
                bar.update(step + 1, list(logs.items()))
        if show == 2:
            print(
                f"{steps}/{steps} - {time.perf_counter() - started:.0f}s - "
                f"accuracy: {logs['accuracy']:.4f} - loss: {logs['loss']:.4f}",
                file=sys.stdout,
                flush=True,
            )
        callback_list.on_epoch_end(epoch, {k: float(v) for k, v in logs.items()})
    callback_list.on_train_end()
