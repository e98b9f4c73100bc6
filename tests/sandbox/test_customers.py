"""Pretend customers: a name alone gives a handle made from it, nothing gives a demo customer."""

import pytest

from sandbox.customers import customer_create, username_from_name

pytestmark = pytest.mark.django_db


def test_it_makes_the_handle_from_the_name_given():
    customer = customer_create(name="Zoë Müller-Brandt")

    assert (customer.name, customer.username) == ("Zoë Müller-Brandt", "zoe.muller.brandt")


def test_it_names_a_customer_by_the_handle_given():
    customer = customer_create(username="night_owl")

    assert (customer.name, customer.username) == ("night_owl", "night_owl")


def test_it_takes_the_next_demo_customer_when_given_nothing():
    first, second = customer_create(), customer_create()

    assert (first.name, first.username) == ("Maya Lopez", "maya.lopez")
    assert (second.name, second.username) == ("Tom Becker", "tombecker")


@pytest.mark.parametrize(
    ("name", "handle"),
    [("مريم", "customer"), ("  A  B  ", "a.b"), ("x" * 40, "x" * 30), ("Ann_Lee!", "ann_lee")],
)
def test_a_handle_is_one_instagram_allows(name, handle):
    assert username_from_name(name) == handle
