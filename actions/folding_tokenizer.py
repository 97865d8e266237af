"""A whitespace tokenizer for Vietnamese typed with or without diacritics.

Citizens write "hồ sơ của tôi" and "ho so cua toi" alike. Every message is first
NFC-normalised (decomposed input breaks regexes and lookups), then each token that
carries diacritics gets a second token at the same offsets holding its folded,
lower-case form, so the featurizers see the diacritic-free words in both cases.
"""

from __future__ import annotations

import unicodedata
from typing import Any

from rasa.engine.graph import ExecutionContext
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.nlu.tokenizers.tokenizer import Token
from rasa.nlu.tokenizers.whitespace_tokenizer import WhitespaceTokenizer
from rasa.shared.nlu.constants import TEXT
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData


def fold(text: str) -> str:
    """Lower-case ``text`` and strip its diacritics ("Đăng ký" → "dang ky")."""
    decomposed = unicodedata.normalize("NFD", text.lower().replace("đ", "d"))
    return "".join(c for c in decomposed if not unicodedata.combining(c))


def _nfc(message: Message) -> None:
    text = message.get(TEXT)
    if isinstance(text, str):
        message.set(TEXT, unicodedata.normalize("NFC", text))


@DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.MESSAGE_TOKENIZER, is_trainable=False)
class FoldingTokenizer(WhitespaceTokenizer):
    """WhitespaceTokenizer plus a diacritic-free copy of each token that has diacritics."""

    @staticmethod
    def not_supported_languages() -> list[str] | None:
        return None

    @classmethod
    def create(
        cls,
        config: dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
    ) -> FoldingTokenizer:
        return cls(config)

    def process_training_data(self, training_data: TrainingData) -> TrainingData:
        for example in training_data.training_examples:
            _nfc(example)
        return super().process_training_data(training_data)

    def process(self, messages: list[Message]) -> list[Message]:
        for message in messages:
            _nfc(message)
        return super().process(messages)

    def tokenize(self, message: Message, attribute: str) -> list[Token]:
        tokens: list[Token] = []
        for token in super().tokenize(message, attribute):
            tokens.append(token)
            folded = fold(token.text)
            if folded != token.text.lower():
                tokens.append(Token(folded, token.start, token.end))
        return tokens
