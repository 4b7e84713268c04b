"""Speaker recognition on raw 1-s 16 kHz clips with a spela front end, exported to TFLite."""

__version__ = "1.0.0"

SAMPLE_RATE = 16000
CLIP_SAMPLES = 16000
# PCM16 samples become floats by this division, in training and on the phone alike.
PCM16_SCALE = 32768.0
# The metadata entry of each exported .tflite that holds model.json's facts (less file sizes).
FACTS_METADATA = "model.json"
