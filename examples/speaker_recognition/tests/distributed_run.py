"""One training process for the distributed-training tests: ``train.train`` plus a record of
every replica's final weights.

Usage::

    python distributed_run.py WEIGHTS.npz --logical-cpus N -- TRAIN_ARGUMENTS...

``--logical-cpus`` splits the CPU into that many logical devices before
TensorFlow starts (so ``MirroredStrategy`` has several replicas on one CPU);
``TF_CONFIG`` in the environment configures a multi-worker run.
"""

from __future__ import annotations

import argparse
import sys

import numpy as np


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("weights")
    parser.add_argument("--logical-cpus", type=int, default=1)
    split = sys.argv.index("--")
    args = parser.parse_args(sys.argv[1:split])

    import keras
    import tensorflow as tf

    cpu = tf.config.list_physical_devices("CPU")[0]
    tf.config.set_logical_device_configuration(
        cpu, [tf.config.LogicalDeviceConfiguration()] * args.logical_cpus
    )

    from speaker_recognition import train

    class RecordWeights(keras.callbacks.Callback):
        def on_train_end(self, logs=None):
            replicas = {}
            for index, variable in enumerate(self.model.variables):
                value = variable.value
                copies = getattr(value, "values", (value,))
                replicas[f"{index}:{variable.path}"] = np.stack([np.asarray(c) for c in copies])
            np.savez(args.weights, **replicas)

    parser = argparse.ArgumentParser()
    parser.add_argument("--data-dir")
    parser.add_argument("--out")
    parser.add_argument("--epochs", type=int)
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--stream", action="store_true")
    parser.add_argument("--distribute", default="none")
    parser.add_argument("--augment", default="noise")
    options = parser.parse_args(sys.argv[split + 1 :])
    train.train(
        options.data_dir,
        options.out,
        epochs=options.epochs,
        batch_size=options.batch_size,
        seed=3,
        verbose=2,
        stream=options.stream,
        distribute=options.distribute,
        augment=options.augment,
        callbacks=[RecordWeights()],
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
