"""Validating one config against its wrapper's pydantic model, and turning pydantic's
errors into `ConfigIssue`s that name the field, the file and line, and what would be
valid. Input values are never echoed: they may be secrets."""

from __future__ import annotations

import types
import typing
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel, ValidationError

from modelhub.errors import ConfigError, ConfigIssue

if TYPE_CHECKING:
    from modelhub.config.schema import ModelConfig
    from modelhub.config.sources import Location

__all__ = ["issues_from_validation_error", "validate_config", "validate_mapping"]


def _model_in(annotation: Any) -> type[BaseModel] | None:
    """The BaseModel subclass inside an annotation such as `Foo | None`."""
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    if typing.get_origin(annotation) in (typing.Union, types.UnionType):
        for arg in typing.get_args(annotation):
            found = _model_in(arg)
            if found is not None:
                return found
    return None


def valid_keys(model: type[BaseModel], parent: Sequence[str | int]) -> list[str] | None:
    """The keys allowed in the mapping at `parent` inside `model`, if it is a model."""
    current: type[BaseModel] | None = model
    for part in parent:
        if current is None or not isinstance(part, str) or part not in current.model_fields:
            return None
        current = _model_in(current.model_fields[part].annotation)
    if current is None:
        return None
    return list(current.model_fields)


def _field_path(loc: Sequence[str | int]) -> str:
    return ".".join(str(p) for p in loc)


def issues_from_validation_error(
    error: ValidationError, model: type[BaseModel], *, config_name: str | None,
    location: Location | None,
) -> list[ConfigIssue]:
    """One ConfigIssue per pydantic error, with suggestions for unknown keys."""
    issues = []
    for err in error.errors(include_input=False, include_url=False):
        loc = tuple(err["loc"])
        kind = err["type"]
        if kind == "extra_forbidden":
            from modelhub.config.suggest import did_you_mean, misspelling_of

            key = str(loc[-1])
            allowed = valid_keys(model, loc[:-1]) or []
            known_params: frozenset[str] = getattr(model, "known_params", frozenset()) \
                if len(loc) == 1 else frozenset()
            param = key if key in known_params else misspelling_of(key, known_params)
            if param is not None:
                msg = f"unknown key {key!r}; did you mean 'generate_args.{param}'?"
            else:
                msg = f"unknown key {key!r}{did_you_mean(key, allowed)}"
                if allowed:
                    msg += f" Valid keys: {', '.join(sorted(allowed))}"
        elif kind == "missing":
            msg = "required field is missing"
        else:
            msg = err["msg"]
            if msg.startswith("Value error, "):
                msg = msg[len("Value error, "):]
        issues.append(ConfigIssue(
            msg, config_name=config_name, field=_field_path(loc) or None,
            path=location.path if location else None,
            line=location.line_of(loc) if location else None))
    return issues


def validate_config(
    model: type[ModelConfig], data: Mapping[str, Any], location: Location | None = None,
) -> tuple[ModelConfig | None, list[ConfigIssue]]:
    """`data` validated against `model`, or None and the issues found."""
    name = data.get("config_name")
    config_name = name if isinstance(name, str) else None
    try:
        config = model.model_validate(data)
    except ValidationError as error:
        return None, issues_from_validation_error(error, model, config_name=config_name,
                                                  location=location)
    issues = _misspelled(config.generate_args, model, config_name, location)
    return (None, issues) if issues else (config, [])


def _misspelled(generate_args: Mapping[str, Any], model: type[ModelConfig],
                config_name: str | None, location: Location | None) -> list[ConfigIssue]:
    """An issue for each generation argument that misspells one the provider knows."""
    from modelhub.config.params import misspelled_params

    return [ConfigIssue(f"unknown generation argument {given!r}; did you mean {meant!r}?",
                        config_name=config_name, field=f"generate_args.{given}",
                        path=location.path if location else None,
                        line=location.line_of(("generate_args", given)) if location else None)
            for given, meant in misspelled_params(generate_args, model.known_params)]


def validate_mapping(model: type[ModelConfig], data: Mapping[str, Any]) -> ModelConfig:
    """`data` validated against `model`; raises ConfigError listing every problem."""
    config, issues = validate_config(model, data)
    if config is None:
        raise ConfigError(issues)
    return config
