"""One pager for every staff list: its links keep the list's filters and change only its page."""

from __future__ import annotations

from django.template.loader import render_to_string
from django.test import RequestFactory

from crm_messaging.ui.screens import paginate


def test_the_neighbours_keep_the_filters_and_change_only_their_page_number() -> None:
    request = RequestFactory().get("/messages/", {"status": "failed", "q": "Ayşe", "page": "2"})
    page = paginate(request, list(range(25)), 10)  # type: ignore[arg-type]
    assert page.number == 2
    assert page.previous_url == "?status=failed&q=Ay%C5%9Fe&page=1"
    assert page.next_url == "?status=failed&q=Ay%C5%9Fe&page=3"


def test_a_list_with_its_own_page_parameter_leaves_the_others_alone() -> None:
    request = RequestFactory().get("/credits/", {"page": "4", "orders_page": "1"})
    orders = paginate(request, list(range(30)), 10, param="orders_page")  # type: ignore[arg-type]
    assert orders.number == 1
    assert orders.next_url == "?page=4&orders_page=2"


def test_the_pager_names_its_list_and_scrolls_to_it() -> None:
    request = RequestFactory().get("/credits/", {"orders_page": "2"})
    orders = paginate(request, list(range(30)), 10, param="orders_page")  # type: ignore[arg-type]
    html = render_to_string(
        "ui/_pager.html", {"page": orders, "label": "Order pages", "anchor": "#orders"}
    )
    assert 'aria-label="Order pages"' in html
    assert 'href="?orders_page=1#orders" rel="prev"' in html
    assert 'href="?orders_page=3#orders" rel="next"' in html
    assert "Page 2 of 3" in html


def test_one_page_needs_no_pager() -> None:
    request = RequestFactory().get("/guests/")
    page = paginate(request, list(range(5)), 10)  # type: ignore[arg-type]
    assert render_to_string("ui/_pager.html", {"page": page}).strip() == ""


def test_an_unnamed_pager_says_pages() -> None:
    request = RequestFactory().get("/guests/")
    page = paginate(request, list(range(25)), 10)  # type: ignore[arg-type]
    assert 'aria-label="Pages"' in render_to_string("ui/_pager.html", {"page": page})
