"""No attribute of a table model shadows pynamodb's own ``Model`` API (``count``, ``delete``, ``update`` ...)."""

import importlib
import pkgutil

import pytest
from pynamodb.models import Model

import core.repositories
from core.repositories.table import MainTableModel

for module in pkgutil.iter_modules(core.repositories.__path__):
    importlib.import_module(f"core.repositories.{module.name}")


def _models(cls: type) -> list[type]:
    found = []
    for sub in cls.__subclasses__():
        found += [sub, *_models(sub)]
    return found


# What a Model instance or class answers to besides its attributes.
RESERVED = set(dir(Model)) | {"attribute_values"}


@pytest.mark.parametrize("model", _models(MainTableModel), ids=lambda model: model.__name__)
def test_no_attribute_shadows_the_model_api(model):
    assert sorted(set(model.get_attributes()) & RESERVED) == []


def test_the_key_counter_keeps_its_stored_name():
    from core.repositories.exchange_keys import KeyCountItem

    assert KeyCountItem.keys_held.attr_name == "count"
    assert callable(KeyCountItem.count)
