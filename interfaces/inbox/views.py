"""The inbox screens: the tabs, one conversation (thread, stay card, actions, reply box), the
header's unread badge, and quick replies.

Front desk and managers read (``inbox.view_conversation``) and answer
(``inbox.reply_conversation``); marketing has neither. Every change is a POST to a service;
the live parts (badge, list, thread) are htmx polls of fragments.
"""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404, render
from django.urls import reverse
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from django.utils.translation import gettext as _
from django.views import View
from django.views.generic import TemplateView

from channels_out.models import OutboundMessage, Status
from crm_messaging.numbers import whole_number
from crm_messaging.ui.once import Resubmitted, new_nonce, resubmitted, submit_once
from crm_messaging.ui.screens import StaffView, paginate, refusal, search_param
from guests.models import ContactChannel, Guest
from guests.selectors import consent_current

from .forms import (
    AssignForm,
    LinkGuestForm,
    NoteForm,
    QuickReplyForm,
    ReplyForm,
    SearchForm,
)
from .models import Conversation, QuickReply
from .selectors import (
    TABS,
    conversation_list,
    conversation_thread,
    conversation_unread_upto,
    guest_candidates,
    quick_replies_for,
    staff_who_answer,
    unread_count,
)
from .services import (
    conversation_add_note,
    conversation_assign,
    conversation_close,
    conversation_link_guest,
    conversation_mark_read,
    conversation_reopen,
    conversation_reply,
    current_stay,
    quick_reply_save,
    quick_reply_text,
    whatsapp_window_ends,
)

PAGE_SIZE = 50
VIEW, REPLY = "inbox.view_conversation", "inbox.reply_conversation"


def badge(request: HttpRequest) -> HttpResponse:
    """htmx: the header's link to the inbox with the unread count (polled on every staff page)."""
    if not request.user.is_authenticated or not request.user.has_perm(VIEW):
        return HttpResponse(status=204)
    return render(request, "inbox/_badge.html", {"unread": unread_count(user=request.user)})


class InboxView(StaffView, TemplateView):
    """The tabs: open, mine, unassigned, closed; newest activity first; search."""

    permission_required = VIEW
    template_name = "inbox/inbox.html"

    def get_template_names(self) -> list[str]:
        if self.request.headers.get("HX-Request") and self.request.GET.get("rows"):
            return ["inbox/_rows.html"]
        return [self.template_name]

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        tab = self.request.GET.get("tab", "open")
        tab = tab if tab in TABS else "open"
        search = SearchForm(self.request.GET)
        q = search.cleaned_data["q"] if search.is_valid() else ""
        page = paginate(
            self.request, conversation_list(user=self.request.user, tab=tab, q=q), PAGE_SIZE
        )
        labels = {
            "open": _("Open"),
            "mine": _("Mine"),
            "unassigned": _("Unassigned"),
            "closed": _("Closed"),
        }
        context.update(
            tab=tab,
            tabs=[(name, labels[name]) for name in TABS],
            search=search,
            q=q,
            page=page,
            conversations=page.object_list,
        )
        return context


class ConversationMixin(StaffView):
    request: HttpRequest
    kwargs: dict[str, Any]

    def conversation(self) -> Conversation:
        return get_object_or_404(
            Conversation.objects.select_related("guest", "assigned_to", "account"),
            pk=self.kwargs["pk"],
        )

    def page_url(self, conversation: Conversation) -> str:
        return reverse("inbox:conversation", args=[conversation.pk])


def window_context(conversation: Conversation) -> dict[str, Any]:
    """The WhatsApp 24-hour window of a conversation: open until when, or closed."""
    if conversation.channel != ContactChannel.WHATSAPP:
        return {"window": None}
    ends = whatsapp_window_ends(conversation)
    now = timezone.now()
    left = (ends - now) if ends else None
    if left is None or left.total_seconds() <= 0:
        return {"window": {"open": False, "ends": ends}}
    minutes = int(left.total_seconds() // 60)
    return {"window": {"open": True, "ends": ends, "hours": minutes // 60, "minutes": minutes % 60}}


class ConversationView(ConversationMixin, TemplateView):
    """One conversation: the thread, the stay card, assign/close/notes and the reply box."""

    permission_required = VIEW
    template_name = "inbox/conversation.html"

    def get_template_names(self) -> list[str]:
        if self.request.headers.get("HX-Request") and self.request.GET.get("part") == "thread":
            return ["inbox/_thread.html"]
        return [self.template_name]

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        conversation = self.conversation()
        guest = conversation.guest
        context.update(
            conversation=conversation,
            thread=conversation_thread(conversation),
            # Set only when there is a guest's message this user has not read: the thread
            # then says it is read (once), and a poll with nothing new posts nothing.
            read_upto=conversation_unread_upto(conversation, user=self.request.user),
            stay=current_stay(guest),
            consents=sorted(consent_current(guest).values(), key=lambda r: (r.purpose, r.channel))
            if guest
            else [],
            **window_context(conversation),
        )
        if self.request.GET.get("part") == "thread":
            return context
        if "reply_form" not in context:
            context["reply_form"], context["quick_reply_error"] = self.reply_form(conversation)
        context.setdefault("note_form", NoteForm())
        context.setdefault(
            "assign_form",
            AssignForm(initial={"assignee": conversation.assigned_to_id}, staff=staff_who_answer()),
        )
        context["quick_replies"] = quick_replies_for(conversation)
        q = search_param(self.request, "find")
        context["find"] = q
        context["candidates"] = guest_candidates(q) if guest is None and q else []
        return context

    def reply_form(self, conversation: Conversation) -> tuple[ReplyForm, str]:
        """The reply box, with the chosen quick reply filled in; and why that quick reply
        cannot be used ("" when it can, or none was chosen): then the box stays empty."""
        chosen = whole_number(self.request.GET.get("quick_reply"))
        initial: dict[str, Any] = {"nonce": new_nonce()}
        problem = ""
        if chosen is not None:
            reply = QuickReply.objects.filter(pk=chosen, is_active=True).first()
            if reply is not None:
                try:
                    text = quick_reply_text(reply, conversation)
                except ValidationError as exc:
                    problem = refusal(exc)
                else:
                    initial.update(text=text, quick_reply=reply.pk)
        return ReplyForm(initial=initial), problem


class ReplyBoxView(ConversationView):
    """htmx: the reply box again, with a quick reply's text filled in."""

    permission_required = REPLY
    template_name = "inbox/_reply_box.html"

    def get_template_names(self) -> list[str]:
        return [self.template_name]


class ReplyView(ConversationMixin, View):
    """POST: answer the guest; the nonce makes a double click one message."""

    permission_required = REPLY
    http_method_names = ["post"]

    def post(self, request: HttpRequest, pk: int) -> HttpResponse:
        conversation = self.conversation()
        form = ReplyForm(request.POST)
        if form.is_valid():
            data = form.cleaned_data
            key = f"inbox:{conversation.pk}:{data['nonce']}"
            already = OutboundMessage.objects.filter(dedupe_key=key).exists()
            try:
                message = conversation_reply(
                    conversation=conversation,
                    user=request.user,
                    nonce=data["nonce"],
                    text=data["text"] or "",
                    quick_reply=data["quick_reply"],
                )
            except ValidationError as exc:
                messages.error(request, refusal(exc))
            else:
                self.report(message, already=already)
                return HttpResponseRedirect(f"{self.page_url(conversation)}#reply")
        else:
            messages.error(
                request, " ".join(str(e) for errors in form.errors.values() for e in errors)
            )
        page = ConversationView()
        page.setup(request, pk=pk)
        return render(request, page.template_name, page.get_context_data(reply_form=form))

    def report(self, message: OutboundMessage, *, already: bool) -> None:
        if already:
            messages.info(self.request, _("This answer was already sent; it was not sent again."))
        elif message.status == Status.SKIPPED:
            messages.warning(
                self.request,
                _("The answer was not sent — %(reason)s.") % {"reason": message.skip_text},
            )
        else:
            messages.success(self.request, _("Answer on its way."))


class _Action(ConversationMixin, View):
    """A POST that changes the conversation through a service, then back to it."""

    permission_required = REPLY
    http_method_names = ["post"]

    def act(self, conversation: Conversation) -> str:
        raise NotImplementedError

    def post(self, request: HttpRequest, pk: int) -> HttpResponse:
        conversation = self.conversation()
        try:
            done = self.act(conversation)
        except Resubmitted as again:
            return again.response(request)
        except ValidationError as exc:
            messages.error(request, refusal(exc))
        else:
            if done:
                messages.success(request, done)
        return HttpResponseRedirect(self.page_url(conversation))


class AssignView(_Action):
    def act(self, conversation: Conversation) -> str:
        form = AssignForm(self.request.POST, staff=staff_who_answer())
        if not form.is_valid():
            raise ValidationError(_("Choose a colleague from the list."))
        assignee = form.assignee_user()
        conversation_assign(conversation=conversation, assignee=assignee, user=self.request.user)
        if assignee is None:
            return _("Nobody is assigned now.")
        return _("Assigned to %(name)s.") % {
            "name": assignee.get_full_name() or assignee.get_username()
        }


class CloseView(_Action):
    def act(self, conversation: Conversation) -> str:
        conversation_close(conversation=conversation, user=self.request.user)
        return _("Conversation closed.")


class ReopenView(_Action):
    def act(self, conversation: Conversation) -> str:
        conversation_reopen(conversation=conversation, user=self.request.user)
        return _("Conversation re-opened.")


class NoteView(_Action):
    def act(self, conversation: Conversation) -> str:
        form = NoteForm(self.request.POST)
        if not form.is_valid():
            raise ValidationError(_("Write the note."))
        submit_once(
            self.request,
            form=f"inbox-note:{conversation.pk}",
            write=lambda: conversation_add_note(
                conversation=conversation, body=form.cleaned_data["body"], user=self.request.user
            ),
            landing=lambda _note: self.page_url(conversation),
        )
        return _("Note added.")


class LinkGuestView(_Action):
    def act(self, conversation: Conversation) -> str:
        form = LinkGuestForm(self.request.POST)
        guest = (
            Guest.objects.filter(pk=form.cleaned_data["guest"]).first() if form.is_valid() else None
        )
        if guest is None:
            raise ValidationError(_("Choose a guest from the list."))
        self.linked = conversation_link_guest(
            conversation=conversation, guest=guest, user=self.request.user
        )
        return _("The conversation is now %(guest)s's.") % {"guest": guest.full_name}

    def post(self, request: HttpRequest, pk: int) -> HttpResponse:
        response = super().post(request, pk)
        linked = getattr(self, "linked", None)
        return HttpResponseRedirect(self.page_url(linked)) if linked else response


class ReadView(ConversationMixin, View):
    """POST (htmx, when the thread shows a message the user had not read): he has read the
    guest's messages up to ``upto`` (the newest shown; without it, all). Writes only when that
    is news; a malformed ``upto`` changes nothing (400)."""

    permission_required = VIEW
    http_method_names = ["post"]

    def post(self, request: HttpRequest, pk: int) -> HttpResponse:
        conversation = self.conversation()
        raw = request.POST.get("upto", "")
        try:
            upto = parse_datetime(raw) if raw else None
        except ValueError:
            upto = None
        if raw and (upto is None or upto.tzinfo is None):
            return HttpResponse(status=400)
        moved = conversation_mark_read(conversation=conversation, user=request.user, at=upto)
        response = HttpResponse(status=204)
        if moved:
            response["HX-Trigger"] = "inbox-read"  # the badge and the list show it at once
        return response


# --- quick replies ------------------------------------------------------------------------------


class QuickReplyListView(StaffView, TemplateView):
    permission_required = "inbox.view_quickreply"
    template_name = "inbox/quick_replies.html"

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        context["replies"] = QuickReply.objects.all()
        return context


NEW_QUICK_REPLY = "quick-reply-create"


class QuickReplyEditView(StaffView, TemplateView):
    """Add (no pk) or change a quick reply."""

    template_name = "inbox/quick_reply_form.html"

    def get_permission_required(self) -> tuple[str, ...]:
        return ("inbox.change_quickreply",) if self.kwargs.get("pk") else ("inbox.add_quickreply",)

    def instance(self) -> QuickReply:
        pk = self.kwargs.get("pk")
        return get_object_or_404(QuickReply, pk=pk) if pk else QuickReply()

    def get(self, request: HttpRequest, pk: int | None = None) -> HttpResponse:
        return self.render_to_response(
            self.get_context_data(form=QuickReplyForm(instance=self.instance()))
        )

    def post(self, request: HttpRequest, pk: int | None = None) -> HttpResponse:
        if pk is None and (again := resubmitted(request, form=NEW_QUICK_REPLY)):
            return again.response(request)
        form = QuickReplyForm(request.POST, instance=self.instance())
        if form.is_valid():
            listing = reverse("inbox:quick-replies")

            def save() -> QuickReply:
                return quick_reply_save(
                    quick_reply=form.save(commit=False),
                    user=request.user,
                    changed=form.changed_data,
                )

            try:
                if pk is None:
                    submit_once(
                        request, form=NEW_QUICK_REPLY, write=save, landing=lambda _m: listing
                    )
                else:
                    save()
            except Resubmitted as again:
                return again.response(request)
            except ValidationError as exc:
                form.add_error(None, exc)
            else:
                messages.success(request, _("Quick reply saved."))
                return HttpResponseRedirect(listing)
        return self.render_to_response(self.get_context_data(form=form))
