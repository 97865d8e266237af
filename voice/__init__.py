"""The phone callbot's speech layer: telephone audio, speech recognition, speech synthesis,
text normalisation for speech and endpointing (see ``voice/README.md``)."""


class SpeechEngineError(RuntimeError):
    """A speech engine or its model is missing or failed; the message says how to fix it."""
