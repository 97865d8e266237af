"""The procedure record as staff send it: JSON edits, console forms and imported hand-written records.

One model for every way a record comes in, so none of them can store a field of the wrong type
(a fee amount that is text, a list of steps that is one string) for the assistant to trip on.
"""

from __future__ import annotations

from typing import Annotated

from pydantic import BaseModel, Field, StrictBool, StrictInt

from bot.procedure import Detail, Procedure

CODE = r"^[0-9A-Za-z][0-9A-Za-z._\-]{0,63}$"
Text = Annotated[str, Field(max_length=4000)]
Long = Annotated[str, Field(max_length=20000)]


class FeeIn(BaseModel):
    name: Text
    amount_vnd: StrictInt | None = Field(default=None, ge=0, le=10**12)
    online_amount_vnd: StrictInt | None = Field(default=None, ge=0, le=10**12)
    per: Text = ""
    note: Text = ""


class DocumentIn(BaseModel):
    name: Text
    copies: Text = ""
    note: Text = ""


class ProcedureIn(BaseModel):
    """A whole procedure record (the format of knowledge/procedures/)."""

    code: str = Field(pattern=CODE)
    name: str = Field(min_length=1, max_length=1000)
    detail: Detail = Detail.CURATED
    field: Text = ""
    agency: Text = ""
    level: Text = ""
    who: Text = ""
    channels: list[Text] = Field(default=[], max_length=20)
    where: Text = ""
    processing_time: Text = ""
    processing_time_online: Text = ""
    fees: list[FeeIn] = Field(default=[], max_length=100)
    fee_note: Long = ""
    documents: list[DocumentIn] = Field(default=[], max_length=200)
    steps: list[Long] = Field(default=[], max_length=200)
    result: Long = ""
    conditions: Long = ""
    legal_basis: list[Text] = Field(default=[], max_length=200)
    sources: dict[str, Text] = {}
    aliases: list[Text] = Field(default=[], max_length=100)
    former_codes: list[Annotated[str, Field(pattern=CODE)]] = Field(default=[], max_length=20)
    popularity: StrictInt = Field(default=0, ge=0, le=10**12)
    last_reviewed: str = Field(default="", max_length=32)
    source: Text = ""
    needs_review: StrictBool = False
    retired: StrictBool = False

    def record(self) -> Procedure:
        return Procedure.from_dict(self.model_dump())
