"""The base of every staff screen: permissions, pages, the redirect after a POST, refusals."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, cast

from django.contrib.auth.mixins import LoginRequiredMixin, PermissionRequiredMixin
from django.contrib.auth.models import Group
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Page, Paginator
from django.db.models import QuerySet
from django.http import HttpRequest, QueryDict
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext, gettext_noop

# The standard roles' names (interfaces/staff/roles.py), marked so the catalogue keeps them:
# a refusal names the roles in the reader's language.
STANDARD_ROLE_NAMES = (
    gettext_noop("Manager"),
    gettext_noop("Marketing"),
    gettext_noop("Front desk"),
    gettext_noop("Operator"),
)


class StaffView(LoginRequiredMixin, PermissionRequiredMixin):
    """A staff screen: anonymous users go to the login page; signed-in users without the
    permission get 403 (a front-desk user cannot open the campaign editor)."""

    raise_exception = False
    request: HttpRequest

    def handle_no_permission(self) -> Any:
        if self.request.user.is_authenticated:
            raise PermissionDenied(permission_reason(self.get_permission_required()))
        return super().handle_no_permission()


def permission_reason(permissions: Iterable[str]) -> str:
    """Why a signed-in member of staff is refused a screen, in words staff know: the roles
    (groups) that may open it, in the active language — never a permission's code."""
    groups = Group.objects.all()
    for permission in permissions:
        app_label, _, codename = permission.partition(".")
        groups = groups.filter(
            permissions__content_type__app_label=app_label, permissions__codename=codename
        )
    # Role names are the groups' names; the four standard ones are in the catalogue.
    roles = sorted({gettext(name) for name in groups.values_list("name", flat=True)})
    if not roles:
        return gettext("Only a superuser may open this page.")
    return gettext("This page is for: %(roles)s.") % {"roles": ", ".join(roles)}


class ScreenPage(Page):
    """A page of a staff list that knows the addresses of its neighbours: the current query
    with only its page number changed, for the one pager template (``ui/_pager.html``)."""

    paginator: ScreenPaginator

    def _url(self, number: int) -> str:
        query = self.paginator.query.copy()
        query[self.paginator.param] = str(number)
        return f"?{query.urlencode()}"

    @property
    def previous_url(self) -> str:
        return self._url(self.previous_page_number())

    @property
    def next_url(self) -> str:
        return self._url(self.next_page_number())


class ScreenPaginator(Paginator):
    """Pages of a staff list; ``param`` is the query parameter holding the page number."""

    def __init__(
        self, object_list: Any, per_page: int, *, query: QueryDict, param: str = "page"
    ) -> None:
        super().__init__(object_list, per_page)
        self.query, self.param = query, param

    def _get_page(self, *args: Any, **kwargs: Any) -> ScreenPage:
        return ScreenPage(*args, **kwargs)


def paginate(
    request: HttpRequest, queryset: QuerySet[Any], per_page: int, param: str = "page"
) -> ScreenPage:
    """Return the requested page of ``queryset``; a missing or bad page number gives the first
    page, one past the end the last (never a 404 for a stale link)."""
    paginator = ScreenPaginator(queryset, per_page, query=request.GET, param=param)
    return cast(ScreenPage, paginator.get_page(request.GET.get(param)))


def search_param(request: HttpRequest, name: str = "q", max_length: int = 100) -> str:
    """A search box's text from the address, as a form field would clean it: trimmed, cut to
    ``max_length``, without NUL characters (PostgreSQL refuses them: a 500 otherwise)."""
    return request.GET.get(name, "").replace("\x00", "").strip()[:max_length]


def next_url(request: HttpRequest, default: str) -> str:
    """Where to go after a POST: the ``next`` the form (or, failing that, the address) names
    if it is on this site, else ``default``."""
    target = request.POST.get("next") or request.GET.get("next") or ""
    if target and url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return target
    return default


def refusal(error: ValidationError) -> str:
    """A service's refusal as one sentence for a flash message."""
    return " ".join(error.messages)
