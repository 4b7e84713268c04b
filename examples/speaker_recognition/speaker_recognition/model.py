"""Speaker classifiers whose first layers are a spela front end on raw audio."""

from __future__ import annotations

from collections.abc import Sequence

import keras
import numpy as np
import tensorflow as tf

import spela
from speaker_recognition import CLIP_SAMPLES, SAMPLE_RATE

ARCHITECTURES = ("small_cnn", "seed")
LEARNING_RATES = {"seed": 3e-4, "small_cnn": 2e-3}
WARMUP_SHARE = 0.05  # of the training steps, before the cosine decay starts
STATISTICS_EPSILON = 1e-5
MEL_BANDS = 80  # small_cnn's log-mel bands
CONV_FILTERS = (16, 32, 48, 64)  # small_cnn's Conv-BN-ReLU blocks
LABEL_SMOOTHING = 0.1  # of the room recipe's targets (train.train)
# Adam moves each weight of the no-one column by up to about its learning rate a step, so
# its logit by up to the rate times the statistics' L1 norm. small_cnn's 1,280 pooled
# statistics have a mean L1 norm of 200-600, so a rate of 1e-3 moves the logit by under 1;
# the seed architecture's 243,840 have one of some 300,000, and at 1e-3 the column
# overshoots to the loss's clip on every row. The rate is capped so that a step moves the
# logit by at most this much.
NO_ONE_LOGIT_STEP = 1.0
RATE_BATCHES = 4  # of clips whose statistics set the rate in fit_no_one_column_on_clips
# fit_no_one_column_on_clips looks this many batches into its examples for a row of noise alone.
NOISE_CHECK_BATCHES = 50


def learning_rate(arch: str, total_steps: int | None = None):
    """Adam's learning rate for ``arch``: constant, or warm-up then cosine decay.

    Parameters
    ----------
    arch : {"small_cnn", "seed"}
        Sets the peak rate (``LEARNING_RATES``).
    total_steps : int, optional
        Training steps of the whole run. Given, the rate rises linearly from a
        tenth of the peak to the peak over the first ``WARMUP_SHARE`` of the
        steps, then falls to 0 along a half cosine by the last step
        (``keras.optimizers.schedules.CosineDecay``); the last epochs then
        settle instead of jumping between solutions. None: the peak rate, constant.

    Returns
    -------
    float or keras.optimizers.schedules.LearningRateSchedule
    """
    if arch not in ARCHITECTURES:
        raise ValueError(f"arch must be one of {ARCHITECTURES}, got {arch!r}")
    peak = LEARNING_RATES[arch]
    if total_steps is None:
        return peak
    if not isinstance(total_steps, int) or total_steps < 1:
        raise ValueError(f"total_steps must be an integer >= 1 or None, got {total_steps!r}")
    warmup = int(WARMUP_SHARE * total_steps)
    return keras.optimizers.schedules.CosineDecay(
        peak / 10,
        decay_steps=max(total_steps - warmup, 1),
        alpha=0.0,
        warmup_target=peak,
        warmup_steps=warmup,
    )


def speaker_rows(targets):
    """1 for each row of ``targets`` that names one speaker, 0 for a stranger's row.

    Parameters
    ----------
    targets : tf.Tensor
        ``(batch, speakers)`` training targets (``data.targets``): one-hot for a
        speaker's clip, equal probabilities for a scaled voice (a stranger).

    Returns
    -------
    tf.Tensor
        ``(batch,)`` float32 in {0, 1}.
    """
    return tf.cast(tf.reduce_max(targets, axis=-1) > 0.5, tf.float32)


@keras.saving.register_keras_serializable(package="speaker_recognition")
class SpeakerAccuracy(keras.metrics.CategoricalAccuracy):
    """Accuracy over the training rows that name one speaker (``speaker_rows``).

    Keras's own ``"accuracy"`` on one-hot targets takes the argmax of each row,
    so a stranger's equal targets would count as speaker 0: the room recipe's
    training accuracy read 9-10 points low with it (72-73 % against 82 % on
    3,000 augmented training clips). Logged as ``accuracy``, like the metric
    it replaces.
    """

    def __init__(self, name: str = "accuracy", dtype=None):
        super().__init__(name=name, dtype=dtype)

    def update_state(self, y_true, y_pred, sample_weight=None):
        weights = speaker_rows(y_true)
        if sample_weight is not None:
            weights = weights * tf.cast(tf.reshape(sample_weight, [-1]), tf.float32)
        return super().update_state(y_true, y_pred, sample_weight=weights)


def check_label_smoothing(label_smoothing) -> None:
    """Raise ``ValueError`` naming ``label_smoothing`` unless it is a number in [0, 1)."""
    if not isinstance(label_smoothing, int | float) or not 0 <= label_smoothing < 1:
        raise ValueError(f"label_smoothing must be a number in [0, 1), got {label_smoothing!r}")


@keras.saving.register_keras_serializable(package="speaker_recognition")
class SpeakerOrNoOneCrossentropy(keras.losses.Loss):
    """Cross-entropy over the speakers and no one, for a model with a no-one output.

    ``y_pred`` ``(batch, speakers)`` are the speakers' probabilities
    (``build_model``'s ``no_one_output``) and ``y_true`` the targets of
    ``data.targets``; in each, what the row leaves of 1 is no one's. A row
    of zeros (noise alone) teaches the model that no one is speaking; a
    one-hot or equal row, that someone is. Keras's categorical cross-entropy
    cannot stand in: it rescales each row of ``y_pred`` to sum to 1.

    Parameters
    ----------
    label_smoothing : float, default 0.0
        In [0, 1): a row that is someone's is mixed with equal probabilities
        for every speaker by this share, as Keras's categorical cross-entropy
        does; a row that is no one's stays no one's.
    name : str
    reduction : str
        Keras's reduction over the batch.
    """

    def __init__(
        self,
        label_smoothing: float = 0.0,
        name: str = "speaker_or_no_one_crossentropy",
        reduction: str = "sum_over_batch_size",
    ):
        super().__init__(name=name, reduction=reduction)
        check_label_smoothing(label_smoothing)
        self.label_smoothing = float(label_smoothing)

    def call(self, y_true, y_pred):
        """Per-row cross-entropy, ``(batch,)``, in nats."""
        y_pred = tf.convert_to_tensor(y_pred)
        y_true = tf.cast(y_true, y_pred.dtype)
        someone = tf.reduce_sum(y_true, axis=-1, keepdims=True)
        speakers = tf.cast(tf.shape(y_true)[-1], y_pred.dtype)
        y_true = (1.0 - self.label_smoothing) * y_true + self.label_smoothing * someone / speakers
        no_one_true = 1.0 - someone
        no_one_pred = 1.0 - tf.reduce_sum(y_pred, axis=-1, keepdims=True)
        every_true = tf.concat([y_true, no_one_true], axis=-1)
        every_pred = tf.concat([y_pred, no_one_pred], axis=-1)
        epsilon = keras.config.epsilon()
        every_pred = tf.clip_by_value(every_pred, epsilon, 1.0 - epsilon)
        return -tf.reduce_sum(every_true * tf.math.log(every_pred), axis=-1)

    def get_config(self):
        return {**super().get_config(), "label_smoothing": self.label_smoothing}


def default_frontend(arch: str) -> list[keras.layers.Layer]:
    """The front end each architecture is built with.

    ``seed``: power spectrogram (n_fft 512, hop 256, fixed DFT kernels as a
    convolution) in dB, as the original project. ``small_cnn``: 80-band log-mel
    with 32 ms windows and a 10 ms hop (the factored FFT backend: about 70 KB of
    DFT factors in the exported model, not a 512 x 257 complex DFT matrix), in dB
    relative to each clip's maximum, so the clip's loudness does not matter.
    Below 1 kHz its bands are 37 Hz apart, so the harmonics of a voice at
    150 Hz stand apart (40 bands, 74 Hz apart, blur them): voices that differ
    mostly in pitch keep that cue when a channel cuts the fundamental itself.
    """
    if arch == "seed":
        return [
            spela.Spectrogram(
                512, hop_length=256, power=2.0, backend="matmul", name="spectrogram"
            ),
            spela.PowerToDecibel(name="decibels"),
        ]
    if arch == "small_cnn":
        return [
            spela.MelSpectrogram(
                SAMPLE_RATE,
                n_fft=512,
                hop_length=160,
                n_mels=MEL_BANDS,
                f_min=50.0,
                to_db=True,
                ref="max",
                top_db=80.0,
                name="log_mel",
            ),
        ]
    raise ValueError(f"arch must be one of {ARCHITECTURES}, got {arch!r}")


def build_model(
    n_classes: int,
    arch: str = "small_cnn",
    frontend: keras.layers.Layer | Sequence[keras.layers.Layer] | None = None,
    total_steps: int | None = None,
    masks_and_dropout: bool = True,
    label_smoothing: float = 0.0,
    probability_targets: bool = False,
    no_one_output: bool = False,
    portable: bool = False,
) -> keras.Model:
    """A compiled classifier from raw 1-s 16 kHz audio to speaker probabilities.

    Parameters
    ----------
    n_classes : int
        Number of speakers, >= 2.
    arch : {"small_cnn", "seed"}, default "small_cnn"
        ``"seed"``: the original architecture, front end -> Conv2D(64, 3x3, ReLU)
        -> MaxPool 2x2 -> Flatten -> Dense(softmax), about 1.2 M parameters.
        ``"small_cnn"``: front end -> scaling to [-1, 1] -> SpecAugment masks -> four
        Conv-BN-ReLU blocks (16, 32, 48, 64 filters) with pooling -> mean and
        standard deviation over time (frequency kept, ``statistics_pooling``)
        -> dropout -> Dense(softmax), about 53 k trainable parameters.
    frontend : layer or list of layers, optional
        Maps ``(batch, 16000)`` audio to ``(batch, frames, bins)`` features;
        defaults to ``default_frontend``.
    total_steps : int, optional
        Training steps of the whole run: the learning rate warms up, then
        decays to 0 along a cosine (``learning_rate``). None: a constant rate.
    masks_and_dropout : bool, default True
        ``small_cnn`` only: whether it has the SpecAugment masks (two time masks
        of up to 12 frames, two frequency masks of up to 6 bins) and dropout
        (0.2). Training with the room recipe (babble, reverberation, channels and
        noise on the waveform) needs no more: with them on top the model
        underfits and loses 2.7 / 2.6 points in babble + room at 10 / 5 dB.
    label_smoothing : float, default 0.0
        In [0, 1). Above 0, the targets are mixed with the uniform
        distribution by this share (``LABEL_SMOOTHING`` for the room recipe):
        the model stops pushing its probabilities to 1, so a voice it was not
        trained on reaches the app's threshold less often. It implies
        ``probability_targets``.
    probability_targets : bool, default False
        False (and ``label_smoothing`` 0): sparse categorical cross-entropy on
        integer labels ``(batch,)``. True: categorical cross-entropy on target
        probabilities ``(batch, n_classes)`` (``data.targets``): one-hot for a
        speaker's clip, equal for a stranger's voice, which then teach the
        model to name no one. The training accuracy leaves out the equal rows
        (``SpeakerAccuracy``).
    no_one_output : bool, default False
        True: the last layer has one more output, the probability that no one
        is speaking, which the model returns as what its speakers' probabilities
        leave of 1, not as a column. It is trained with
        ``SpeakerOrNoOneCrossentropy`` on target probabilities whose rows sum
        to 1 for speech and to 0 for noise alone (``data.targets`` of
        ``data.NO_ONE_LABEL``). Against equal targets for noise alone, it took
        the share of noise-alone windows named at the app's threshold from
        5.9 % to 0.8 % (the noise recipe, mean of four seeds). It implies
        ``probability_targets``.
    portable : bool, default False
        Compile with Keras's own ``"accuracy"`` even where the targets are
        probabilities, so that a saved copy loads with ``keras.models.load_model``
        (after ``import spela``) in a process that has not imported this package.
        ``train`` saves ``best.keras`` from such a copy of the trained model.
        With ``no_one_output``, the copy is compiled without a loss (Keras has
        none for it): it predicts, and trains again once compiled with
        ``SpeakerOrNoOneCrossentropy``.

    Returns
    -------
    keras.Model
        Input ``audio`` ``(batch, 16000)`` float32 in [-1, 1]; output
        ``(batch, n_classes)`` probabilities, summing to 1 (or, with
        ``no_one_output``, to 1 minus the probability that no one speaks).
        Compiled with Adam and the cross-entropy ``probability_targets`` or
        ``no_one_output`` selects; its metric is ``accuracy``.
    """
    if arch not in ARCHITECTURES:
        raise ValueError(f"arch must be one of {ARCHITECTURES}, got {arch!r}")
    if not isinstance(n_classes, int) or n_classes < 2:
        raise ValueError(f"n_classes must be an integer >= 2, got {n_classes!r}")
    check_label_smoothing(label_smoothing)
    if frontend is None:
        frontend = default_frontend(arch)
    elif isinstance(frontend, keras.layers.Layer):
        frontend = [frontend]

    audio = keras.Input((CLIP_SAMPLES,), name="audio")
    features = audio
    for layer in frontend:
        features = layer(features)
    if len(features.shape) != 3:
        raise ValueError(f"frontend must output (batch, frames, bins), got {features.shape}")
    frames, bins = features.shape[1], features.shape[2]
    x = keras.layers.Reshape((frames, bins, 1), name="add_channel")(features)
    if arch == "seed":
        x = keras.layers.Conv2D(64, 3, activation="relu")(x)
        x = keras.layers.MaxPooling2D(2)(x)
        x = keras.layers.Flatten()(x)
    else:
        # dB relative to each clip's maximum lie in [-80, 0]: map them to [-1, 1].
        x = keras.layers.Rescaling(1.0 / 40.0, offset=1.0, name="feature_scale")(x)
        if masks_and_dropout:
            x = spela.TimeMasking(12, count=2)(x)
            x = spela.FrequencyMasking(6, count=2)(x)
        # Under a strategy with several replicas, batch statistics are taken over the
        # global batch, so every replica keeps the same moving mean and variance
        # (unsynchronized, each replica would keep its own and save only the first's).
        synchronized = tf.distribute.get_strategy().num_replicas_in_sync > 1
        for index, filters in enumerate(CONV_FILTERS):
            x = keras.layers.Conv2D(filters, 3, padding="same", use_bias=False)(x)
            x = keras.layers.BatchNormalization(momentum=0.9, synchronized=synchronized)(x)
            x = keras.layers.ReLU()(x)
            if index < len(CONV_FILTERS) - 1:
                x = keras.layers.MaxPooling2D(2)(x)
        # Statistics over time only: where energy sits in frequency (formants, pitch
        # range) is what tells voices apart, so the frequency axis is kept.
        _, frames_left, bins_left, channels = x.shape
        x = keras.layers.Reshape((frames_left, bins_left * channels))(x)
        x = statistics_pooling(x)
        if masks_and_dropout:
            x = keras.layers.Dropout(0.2)(x)
    outputs = n_classes + 1 if no_one_output else n_classes
    probabilities = keras.layers.Dense(outputs, activation="softmax", name="speaker")(x)
    if no_one_output:
        probabilities = probabilities[:, :n_classes]  # the last one is no one's
    model = keras.Model(audio, probabilities, name=f"speaker_{arch}")
    probability_targets = probability_targets or label_smoothing > 0 or no_one_output
    if no_one_output:
        loss = None if portable else SpeakerOrNoOneCrossentropy(label_smoothing)
    elif probability_targets:
        loss = keras.losses.CategoricalCrossentropy(label_smoothing=label_smoothing)
    else:
        loss = "sparse_categorical_crossentropy"
    model.compile(
        optimizer=keras.optimizers.Adam(learning_rate(arch, total_steps)),
        loss=loss,
        metrics=[SpeakerAccuracy()] if probability_targets and not portable else ["accuracy"],
    )
    return model


def statistics_pooling(features, epsilon: float = STATISTICS_EPSILON):
    """Mean and standard deviation over time of ``(batch, frames, channels)`` features.

    The pooling of x-vector speaker embeddings: how much each channel varies over
    the clip, not only its average, tells voices apart. With the room recipe on
    1,500 clips per speaker it gained 1.6 / 3.7 points over the mean alone in
    babble + room at 10 / 5 dB at seed 0, and 1.1 / 3.3 at seed 1.

    Parameters
    ----------
    features : KerasTensor
        ``(batch, frames, channels)``.
    epsilon : float
        Added to the variance before the square root, so its gradient stays
        finite where a channel does not vary.

    Returns
    -------
    KerasTensor
        ``(batch, 2 * channels)``: the means, then the standard deviations.
    """
    mean = keras.layers.GlobalAveragePooling1D(name="time_mean")(features)
    deviations = features - keras.ops.expand_dims(mean, 1)
    variance = keras.ops.mean(keras.ops.square(deviations), axis=1)
    deviation = keras.ops.sqrt(variance + epsilon)
    return keras.layers.Concatenate(name="time_statistics")([mean, deviation])


def frontend_layer_names(model: keras.Model) -> list[str]:
    """Names of the model's spela feature layers (kept in float by the int8 export)."""
    return [
        layer.name
        for layer in model.layers
        if type(layer).__module__.startswith("spela.")
        and not isinstance(layer, spela.TimeMasking | spela.FrequencyMasking)
    ]


def has_no_one_output(model: keras.Model) -> bool:
    """Whether ``model`` was built with ``build_model``'s ``no_one_output``.

    Such a model's ``speaker`` softmax is one wider than its output: what the
    speakers' probabilities leave of 1 is the probability that no one speaks.
    A model without a layer named ``speaker`` has no such output.
    """
    try:
        units = model.get_layer("speaker").units
    except (ValueError, AttributeError):
        return False
    return units == model.outputs[0].shape[-1] + 1


def fit_no_one_column(
    statistics,
    targets,
    speaker_kernel,
    speaker_bias,
    epochs: int = 5,
    steps_per_epoch: int = 400,
    learning_rate: float = 1e-3,
    label_smoothing: float = LABEL_SMOOTHING,
    batch_size: int = 64,
    seed: int = 0,
    verbose: int = 2,
):
    """Fit a no-one logit beside a trained speaker layer that stays as it is.

    The speakers' logits are ``statistics @ speaker_kernel + speaker_bias``,
    frozen; one more logit, the no-one column, is fitted with
    ``SpeakerOrNoOneCrossentropy`` on the softmax over all of them. Only the
    column learns, so the speakers' probabilities keep their ratios and every
    argmax over them is the trained model's.

    Parameters
    ----------
    statistics : np.ndarray
        ``(examples, features)`` float32: what the speaker layer receives
        (``small_cnn``'s pooled statistics), for augmented training clips.
    targets : np.ndarray
        ``(examples, speakers)`` float32 (``data.targets``): rows summing to 1
        for speech, to 0 for noise alone.
    speaker_kernel, speaker_bias : np.ndarray
        The trained speaker layer's ``(features, speakers)`` kernel and
        ``(speakers,)`` bias.
    epochs, steps_per_epoch : int, default 5 and 400
        The fit's length, in batches whatever the number of examples (which
        are shuffled and repeated), so that a small run's column learns as
        much as a large run's.
    learning_rate : float, default 1e-3
        Adam's constant rate, at most ``NO_ONE_LOGIT_STEP`` over the
        statistics' mean L1 norm (``no_one_learning_rate``).
    label_smoothing : float, default ``LABEL_SMOOTHING``
        Of the speech rows (``SpeakerOrNoOneCrossentropy``). It moves the
        loss, hardly the column: the cross-entropy's gradient with respect
        to the no-one logit is its probability minus its target, whatever
        share of a row each speaker's target holds; only where the loss
        clips a probability at ``keras.config.epsilon()`` does it differ.
    batch_size : int, default 64
    seed : int, default 0
        Of the shuffling.
    verbose : int, default 2
        Keras's progress display.

    Returns
    -------
    tuple of np.ndarray
        The column's ``(features, 1)`` kernel and ``(1,)`` bias.

    Raises
    ------
    ValueError
        If the shapes do not fit together, or ``targets`` has no row of noise
        alone to learn from.
    """
    statistics = np.asarray(statistics, np.float32)
    targets = np.asarray(targets, np.float32)
    speaker_kernel = np.asarray(speaker_kernel, np.float32)
    speaker_bias = np.asarray(speaker_bias, np.float32)
    features, speakers = speaker_kernel.shape
    if statistics.ndim != 2 or statistics.shape[1] != features:
        raise ValueError(
            f"statistics must be (examples, {features}) for this speaker layer, "
            f"got {statistics.shape}"
        )
    if targets.shape != (len(statistics), speakers) or speaker_bias.shape != (speakers,):
        raise ValueError(
            f"targets must be ({len(statistics)}, {speakers}) and speaker_bias ({speakers},), "
            f"got {targets.shape} and {speaker_bias.shape}"
        )
    if not np.any(targets.sum(axis=1) < 0.5):
        raise ValueError("targets has no row of noise alone (all zeros) to fit no one on")
    examples = (
        tf.data.Dataset.from_tensor_slices((statistics, targets))
        .shuffle(len(statistics), seed=seed)
        .repeat()
        .batch(batch_size)
    )
    return _fit_no_one_logit(
        examples,
        (features,),
        None,
        speaker_kernel,
        speaker_bias,
        no_one_learning_rate(statistics, learning_rate),
        label_smoothing,
        epochs=epochs,
        steps_per_epoch=steps_per_epoch,
        verbose=verbose,
    )


def no_one_learning_rate(statistics, learning_rate: float = 1e-3) -> float:
    """Adam's rate for the no-one column: ``learning_rate``, capped for wide statistics.

    Parameters
    ----------
    statistics : np.ndarray
        ``(examples, features)``: what the speaker layer receives, for some
        augmented clips.
    learning_rate : float, default 1e-3

    Returns
    -------
    float
        ``min(learning_rate, NO_ONE_LOGIT_STEP / mean L1 norm of the rows)``:
        a step of Adam then moves the column's logit by about
        ``NO_ONE_LOGIT_STEP`` at most.
    """
    mean_l1 = float(np.mean(np.sum(np.abs(statistics), axis=1)))
    return min(learning_rate, NO_ONE_LOGIT_STEP / mean_l1) if mean_l1 > 0 else learning_rate


def fit_no_one_column_on_clips(
    statistics_of: keras.Model,
    examples,
    speaker_kernel,
    speaker_bias,
    epochs: int = 5,
    steps_per_epoch: int = 400,
    learning_rate: float = 1e-3,
    label_smoothing: float = LABEL_SMOOTHING,
    verbose: int = 2,
):
    """``fit_no_one_column`` on clips, taking their statistics as the fit goes.

    For a speaker layer that receives too many values per clip to hold them
    for thousands of clips (the ``seed`` architecture's Flatten: 243,840): a
    frozen copy of ``statistics_of`` maps each batch of clips to statistics
    in inference mode, and the column is fitted on them exactly as
    ``fit_no_one_column`` fits it on held ones. Each batch is new, so nothing
    is held and the fit takes as long as ``epochs * steps_per_epoch`` batches
    through ``statistics_of``. The learning rate is capped as
    ``fit_no_one_column`` caps it, on the statistics of the first
    ``RATE_BATCHES`` batches.

    Parameters
    ----------
    statistics_of : keras.Model
        The trained model up to its speaker layer: audio ``(batch, CLIP_SAMPLES)``
        to ``(batch, features)``. It is copied, not changed.
    examples : tf.data.Dataset
        Batches of ``(clips (batch, CLIP_SAMPLES), targets (batch, speakers))``
        (``data.targets``), enough for the whole fit (a repeated dataset), with
        rows of noise alone (targets summing to 0) among them, at least one in
        the first ``NOISE_CHECK_BATCHES`` batches.
    speaker_kernel, speaker_bias : np.ndarray
        The trained speaker layer's ``(features, speakers)`` kernel and
        ``(speakers,)`` bias.
    epochs, steps_per_epoch, learning_rate, label_smoothing, verbose
        As for ``fit_no_one_column``.

    Returns
    -------
    tuple of np.ndarray
        The column's ``(features, 1)`` kernel and ``(1,)`` bias.

    Raises
    ------
    ValueError
        If ``statistics_of``, ``examples`` and the speaker layer do not fit
        together, or the first ``NOISE_CHECK_BATCHES`` batches hold no row of
        noise alone to fit no one on.
    """
    speaker_kernel = np.asarray(speaker_kernel, np.float32)
    speaker_bias = np.asarray(speaker_bias, np.float32)
    features, speakers = speaker_kernel.shape
    clip_spec, target_spec = examples.element_spec
    given = (
        tuple(statistics_of.input.shape[1:]),
        statistics_of.output.shape[-1],
        tuple(clip_spec.shape[1:]),
        target_spec.shape[-1],
        speaker_bias.shape,
    )
    wanted = ((CLIP_SAMPLES,), features, (CLIP_SAMPLES,), speakers, (speakers,))
    if given != wanted:
        raise ValueError(
            f"statistics_of must map (batch, {CLIP_SAMPLES}) clips to (batch, {features}) "
            f"statistics, and examples hold batches of (batch, {CLIP_SAMPLES}) clips and "
            f"(batch, {speakers}) targets for a ({features}, {speakers}) speaker kernel "
            f"and ({speakers},) bias; got a model from {given[0]} to {given[1]} values, "
            f"clips {given[2]}, {given[3]} targets and a bias of {given[4]}"
        )
    noise_alone = (
        bool(np.any(np.sum(targets, axis=1) < 0.5))
        for _, targets in examples.take(NOISE_CHECK_BATCHES)
    )
    if not any(noise_alone):
        raise ValueError(
            f"examples has no row of noise alone (targets summing to 0) in its first "
            f"{NOISE_CHECK_BATCHES} batches: the column would never learn no one"
        )
    frozen = keras.models.clone_model(statistics_of)
    frozen.set_weights(statistics_of.get_weights())
    frozen.trainable = False
    first = np.concatenate(
        [frozen.predict_on_batch(clips) for clips, _ in examples.take(RATE_BATCHES)]
    )
    return _fit_no_one_logit(
        examples,
        (CLIP_SAMPLES,),
        frozen,
        speaker_kernel,
        speaker_bias,
        no_one_learning_rate(first, learning_rate),
        label_smoothing,
        epochs=epochs,
        steps_per_epoch=steps_per_epoch,
        verbose=verbose,
    )


def _fit_no_one_logit(
    examples,
    input_shape,
    statistics_of,
    speaker_kernel,
    speaker_bias,
    learning_rate,
    label_smoothing,
    **fit,
):
    """The no-one column's kernel and bias, fitted on batches of ``(inputs, targets)``.

    The inputs, of ``input_shape``, are what the speaker layer receives, or
    what the frozen ``statistics_of`` maps to it in inference mode; ``fit``
    holds ``keras.Model.fit``'s ``epochs``, ``steps_per_epoch`` and ``verbose``.
    """
    inputs = keras.Input(input_shape)
    statistics = inputs if statistics_of is None else statistics_of(inputs, training=False)
    speakers = speaker_kernel.shape[1]
    speaker_logits = keras.layers.Dense(speakers, trainable=False)
    # Starting well below the speakers, no one takes little until the fit says otherwise.
    no_one_logit = keras.layers.Dense(
        1, bias_initializer=keras.initializers.Constant(float(speaker_bias.max()) - 4.0)
    )
    logits = keras.layers.Concatenate()([speaker_logits(statistics), no_one_logit(statistics)])
    probabilities = keras.layers.Softmax()(logits)[:, :speakers]
    head = keras.Model(inputs, probabilities)
    speaker_logits.set_weights([speaker_kernel, speaker_bias])
    head.compile(keras.optimizers.Adam(learning_rate), SpeakerOrNoOneCrossentropy(label_smoothing))
    head.fit(examples, shuffle=False, **fit)
    kernel, bias = no_one_logit.get_weights()
    return kernel, bias


def with_no_one_column(model: keras.Model, kernel, bias) -> keras.Model:
    """``model`` with a no-one output: its ``speaker`` layer, one column wider.

    Parameters
    ----------
    model : keras.Model
        Ends in a softmax ``Dense`` named ``speaker`` whose output is the
        model's, without a no-one output (``has_no_one_output``).
    kernel, bias : np.ndarray
        The no-one column's ``(features, 1)`` kernel and ``(1,)`` bias
        (``fit_no_one_column``).

    Returns
    -------
    keras.Model
        The same layers and weights up to ``speaker``, then a
        ``Dense(speakers + 1, softmax)`` named ``speaker`` whose first columns
        are the old layer's, returning the speakers' probabilities as
        ``build_model``'s ``no_one_output`` does. Not compiled: it
        predicts, saves and exports, and a saved copy loads with no optimizer
        to restore; it trains again once compiled with
        ``SpeakerOrNoOneCrossentropy``.

    Raises
    ------
    ValueError
        If ``model`` does not end in such a layer, or the column's shapes do
        not fit it.
    """
    try:
        speaker = model.get_layer("speaker")
    except ValueError:
        raise ValueError("model has no layer named 'speaker' to widen") from None
    if (
        not isinstance(speaker, keras.layers.Dense)
        or speaker.activation is not keras.activations.softmax
        or model.outputs[0] is not speaker.output
    ):
        raise ValueError(
            "model must end in its 'speaker' layer, a Dense with a softmax, without a "
            "no-one output"
        )
    speaker_kernel, speaker_bias = speaker.get_weights()
    features, speakers = speaker_kernel.shape
    kernel, bias = np.asarray(kernel, np.float32), np.asarray(bias, np.float32)
    if kernel.shape != (features, 1) or bias.shape != (1,):
        raise ValueError(
            f"the no-one column must be a ({features}, 1) kernel and a (1,) bias, "
            f"got {kernel.shape} and {bias.shape}"
        )
    wider = keras.layers.Dense(speakers + 1, activation="softmax", name="speaker")
    probabilities = wider(speaker.input)[:, :speakers]  # the last one is no one's
    widened = keras.Model(model.input, probabilities, name=model.name)
    wider.set_weights(
        [np.concatenate([speaker_kernel, kernel], axis=1), np.concatenate([speaker_bias, bias])]
    )
    return widened
