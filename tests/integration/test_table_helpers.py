"""The repositories' write helpers against moto: which condition failed, by name, not by position."""

from __future__ import annotations

import pytest
from pynamodb.attributes import NumberAttribute
from pynamodb.exceptions import PutError, TransactWriteError, UpdateError

from core.repositories.table import MainTableModel, NamedTransaction, condition_failed


class Thing(MainTableModel):
    value = NumberAttribute(null=True)


def thing(sk: str) -> Thing:
    return Thing(pk="TEST#helpers", sk=sk, value=1)


def test_a_single_write_says_whether_its_condition_failed(aws):
    thing("a").save()
    with pytest.raises(PutError) as caught:
        thing("a").save(condition=Thing.pk.does_not_exist())
    assert condition_failed(caught.value)
    with pytest.raises(UpdateError) as caught:
        thing("missing").update(actions=[Thing.value.set(2)], condition=Thing.pk.exists())
    assert condition_failed(caught.value)


@pytest.mark.parametrize("order", ["update first", "puts first"])
def test_a_transaction_names_the_write_whose_condition_failed_whatever_the_order(aws, order):
    thing("exists").save()
    transaction = NamedTransaction()
    writes = [
        lambda: transaction.update("counter", thing("counter"), actions=[Thing.value.set(1)]),
        lambda: transaction.save("fresh", thing("fresh"), condition=Thing.pk.does_not_exist()),
        lambda: transaction.save("claim", thing("exists"), condition=Thing.pk.does_not_exist()),
        lambda: transaction.delete("gone", thing("gone")),
    ]
    for write in writes if order == "update first" else [*writes[1:], writes[0]]:
        write()
    with pytest.raises(TransactWriteError) as caught:
        transaction.commit()
    assert transaction.failed_conditions(caught.value) == {"claim"}
    assert transaction.condition_failed(caught.value, "claim")
    assert not transaction.condition_failed(caught.value, "counter")
    # Nothing of the cancelled transaction was written.
    assert Thing.count("TEST#helpers") == 1


def test_a_committed_transaction_writes_everything_and_names_are_unique(aws):
    transaction = NamedTransaction()
    transaction.save("one", thing("1"))
    transaction.save("two", thing("2"), condition=Thing.pk.does_not_exist())
    with pytest.raises(ValueError, match="already part of this transaction"):
        transaction.save("one", thing("3"))
    transaction.commit()
    assert Thing.count("TEST#helpers") == 2
