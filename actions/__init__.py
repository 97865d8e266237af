"""Custom Rasa code: the folding tokenizer (used in training and by the Rasa server)
and the actions run by the rasa-sdk action server (``actions.dialogue``).

Kept import-light on purpose: the action server loads ``actions.dialogue`` only,
so it never imports Rasa itself (TensorFlow), and Rasa never imports the actions.
"""
