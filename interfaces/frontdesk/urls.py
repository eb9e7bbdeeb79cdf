"""Front-desk screens, mounted at /desk/: reservations and guests."""

from django.urls import path

from . import views

app_name = "guests"

urlpatterns = [
    path("reservations/", views.ReservationListView.as_view(), name="reservation-list"),
    path("reservations/new/", views.ReservationCreateView.as_view(), name="reservation-create"),
    path(
        "reservations/<int:pk>/", views.ReservationDetailView.as_view(), name="reservation-detail"
    ),
    path(
        "reservations/<int:pk>/check-in/",
        views.ReservationCheckInView.as_view(),
        name="reservation-check-in",
    ),
    path(
        "reservations/<int:pk>/check-out/",
        views.ReservationCheckOutView.as_view(),
        name="reservation-check-out",
    ),
    path(
        "reservations/<int:pk>/cancel/",
        views.ReservationCancelView.as_view(),
        name="reservation-cancel",
    ),
    path(
        "reservations/<int:pk>/no-show/",
        views.ReservationNoShowView.as_view(),
        name="reservation-no-show",
    ),
    path(
        "reservations/<int:pk>/notifications/",
        views.ReservationNotificationsView.as_view(),
        name="reservation-notifications",
    ),
    path(
        "reservations/<int:pk>/send/", views.ReservationSendView.as_view(), name="reservation-send"
    ),
    path(
        "reservations/<int:pk>/send/form/",
        views.ReservationSendFormView.as_view(),
        name="reservation-send-form",
    ),
    path(
        "reservations/<int:pk>/messages/",
        views.ReservationMessagesView.as_view(),
        name="reservation-messages",
    ),
    path("guests/", views.GuestListView.as_view(), name="guest-list"),
    path("guests/<int:pk>/", views.GuestDetailView.as_view(), name="guest-detail"),
    path("guests/<int:pk>/edit/", views.GuestEditView.as_view(), name="guest-edit"),
    path("guests/<int:pk>/history/", views.GuestHistoryView.as_view(), name="guest-history"),
    path("guests/<int:pk>/consent/", views.GuestConsentView.as_view(), name="guest-consent"),
    path("guests/<int:pk>/greylist/", views.GuestGreylistView.as_view(), name="guest-greylist"),
    path(
        "guests/<int:pk>/greylist/<int:entry>/lift/",
        views.GreylistLiftView.as_view(),
        name="greylist-lift",
    ),
    path(
        "guests/<int:pk>/suppression/<int:suppression>/clear/",
        views.SuppressionClearView.as_view(),
        name="suppression-clear",
    ),
    path("guests/<int:pk>/merge/<int:other>/", views.GuestMergeView.as_view(), name="guest-merge"),
    path("guests/<int:pk>/send/", views.GuestSendView.as_view(), name="guest-send"),
    path("guests/<int:pk>/send/form/", views.GuestSendFormView.as_view(), name="guest-send-form"),
]
