"""The inbox in the Django admin: quick replies (saved by their service) and conversations (read-only)."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin
from django.db import models
from django.http import HttpRequest

from crm_messaging.ui.admin import ReadOnlyAdmin, ServiceBackedAdmin

from .models import Conversation, QuickReply
from .services import quick_reply_save


@admin.register(QuickReply)
class QuickReplyAdmin(ServiceBackedAdmin):
    service_keeps_history = True
    list_display = ("title", "language", "whatsapp_template_id", "position", "is_active")
    list_filter = ("language", "is_active")
    search_fields = ("title", "body")

    def save_through_service(
        self, request: HttpRequest, obj: Any, form: forms.ModelForm, change: bool
    ) -> models.Model:
        return quick_reply_save(quick_reply=obj, user=request.user, changed=form.changed_data)


@admin.register(Conversation)
class ConversationAdmin(ReadOnlyAdmin):
    list_display = ("__str__", "channel", "status", "assigned_to", "last_activity_at")
    list_filter = ("status", "channel")
    search_fields = ("address", "guest__first_name", "guest__last_name")
    list_select_related = ("guest", "assigned_to")
