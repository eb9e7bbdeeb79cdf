"""The inbox's URLs (/inbox/…, names inbox:…)."""

from django.urls import path

from . import views

app_name = "inbox"

urlpatterns = [
    path("", views.InboxView.as_view(), name="list"),
    path("badge/", views.badge, name="badge"),
    path("quick-replies/", views.QuickReplyListView.as_view(), name="quick-replies"),
    path("quick-replies/new/", views.QuickReplyEditView.as_view(), name="quick-reply-add"),
    path("quick-replies/<int:pk>/", views.QuickReplyEditView.as_view(), name="quick-reply-edit"),
    path("<int:pk>/", views.ConversationView.as_view(), name="conversation"),
    path("<int:pk>/reply-box/", views.ReplyBoxView.as_view(), name="reply-box"),
    path("<int:pk>/reply/", views.ReplyView.as_view(), name="reply"),
    path("<int:pk>/assign/", views.AssignView.as_view(), name="assign"),
    path("<int:pk>/close/", views.CloseView.as_view(), name="close"),
    path("<int:pk>/reopen/", views.ReopenView.as_view(), name="reopen"),
    path("<int:pk>/note/", views.NoteView.as_view(), name="note"),
    path("<int:pk>/link/", views.LinkGuestView.as_view(), name="link"),
    path("<int:pk>/read/", views.ReadView.as_view(), name="read"),
]
