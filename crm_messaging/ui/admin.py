"""What every app's admin shares: links to admin pages, refusals as messages, service-backed
and read-only admin classes."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin, messages
from django.contrib.admin.utils import flatten
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.urls import NoReverseMatch, reverse
from django.utils.html import format_html


class Refused(Exception):
    """A service refused a save the form had accepted; raised to roll the whole request back."""

    def __init__(self, error: ValidationError) -> None:
        super().__init__(error)
        self.error = error


def error_text(error: ValidationError) -> str:
    """A service's refusal as one sentence for an admin message."""
    return " ".join(error.messages)


def plural(count: int, noun: str) -> str:
    return f"{count} {noun}{'' if count == 1 else 's'}"


def admin_link(obj: models.Model | None, text: object = None) -> str:
    """A link to ``obj``'s admin page, or its plain text when it has none."""
    if obj is None or obj.pk is None:
        return "—"
    label = obj if text is None else text
    try:
        url = reverse(f"admin:{obj._meta.app_label}_{obj._meta.model_name}_change", args=[obj.pk])
    except NoReverseMatch:
        return format_html("{}", label)
    return format_html('<a href="{}">{}</a>', url, label)


def _adopt(obj: models.Model, saved: models.Model) -> None:
    """Make the admin's form instance the row the service wrote, so inlines and the log use it."""
    for field in saved._meta.concrete_fields:
        setattr(obj, field.attname, getattr(saved, field.attname))
    obj._state.adding = False
    obj._state.db = saved._state.db


class ServiceBackedAdmin(admin.ModelAdmin):
    """A ModelAdmin whose ``save_model`` calls a service.

    The service may still refuse what the form accepted (another user changed the row in
    between); the refusal undoes the whole request and comes back as an error message.
    When the service keeps the staff action in the object's history itself
    (``record_staff_action``), ``service_keeps_history`` stops the admin writing a second entry.
    """

    service_keeps_history = False

    def log_addition(self, request: HttpRequest, obj: Any, message: Any) -> Any:
        if self.service_keeps_history:
            return None
        return super().log_addition(request, obj, message)

    def log_change(self, request: HttpRequest, obj: Any, message: Any) -> Any:
        if self.service_keeps_history:
            return None
        return super().log_change(request, obj, message)

    def construct_change_message(
        self, request: HttpRequest, form: forms.Form, formsets: Any, add: bool = False
    ) -> list[dict[str, Any]]:
        if self.service_keeps_history:  # nothing to log here; the inlines went to the service too
            return []
        return super().construct_change_message(request, form, formsets, add)

    def save_model(
        self, request: HttpRequest, obj: Any, form: forms.ModelForm, change: bool
    ) -> None:
        try:
            saved = self.save_through_service(request, obj, form, change)
        except ValidationError as exc:
            raise Refused(exc) from exc
        _adopt(obj, saved)

    def save_through_service(
        self, request: HttpRequest, obj: Any, form: forms.ModelForm, change: bool
    ) -> models.Model:
        raise NotImplementedError

    def changeform_view(
        self,
        request: HttpRequest,
        object_id: str | None = None,
        form_url: str = "",
        extra_context: dict[str, Any] | None = None,
    ) -> HttpResponse:
        try:
            return super().changeform_view(request, object_id, form_url, extra_context)
        except Refused as refused:
            messages.error(request, error_text(refused.error))
            return HttpResponseRedirect(request.get_full_path())


class YesNoFilter(admin.SimpleListFilter):
    """A list filter with two choices: the rows that meet ``condition()``, and the others."""

    yes_label = "Yes"
    no_label = "No"

    def condition(self) -> Any:
        """The filter's condition: a ``Q`` or a boolean expression."""
        raise NotImplementedError

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, str]]:
        return [("yes", self.yes_label), ("no", self.no_label)]

    def queryset(self, request: HttpRequest, queryset: QuerySet[Any]) -> QuerySet[Any]:
        if self.value() == "yes":
            return queryset.filter(self.condition())
        if self.value() == "no":
            return queryset.exclude(self.condition())
        return queryset


class ReadOnlyAdmin(admin.ModelAdmin):
    """An audit list: nothing is added, changed or deleted here."""

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


class ReadOnlyInline(admin.TabularInline):
    extra = 0
    can_delete = False
    show_change_link = True
    # Relations the rows show, read with them (like ModelAdmin.list_select_related).
    select_related: tuple[str, ...] = ()

    def get_queryset(self, request: HttpRequest) -> QuerySet[Any]:
        queryset = super().get_queryset(request)
        return queryset.select_related(*self.select_related) if self.select_related else queryset

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> tuple[str, ...]:
        # Non-editable fields (created_at …) cannot be form fields, even in a view-only inline.
        return tuple(flatten(self.fields or ()))

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False
