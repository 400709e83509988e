"""Base class for every JSON model: camelCase on the wire, snake_case in Python."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict
from pydantic.alias_generators import to_camel


class CamelModel(BaseModel):
    model_config = ConfigDict(alias_generator=to_camel, populate_by_name=True, extra="forbid")

    def to_json_dict(self) -> dict:
        """The wire form: camelCase keys, JSON types."""
        return self.model_dump(mode="json", by_alias=True, exclude_none=True)
