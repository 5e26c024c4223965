from django.urls import path

from . import views

app_name = "service"
urlpatterns = [
    path("", views.ticket_list, name="list"),
    path("new/", views.ticket_create, name="create"),
    path("<int:pk>/", views.ticket_detail, name="detail"),
    path("<int:pk>/transition/", views.ticket_transition, name="transition"),
    path("<int:pk>/transfer/", views.ticket_transfer, name="transfer"),
    path("<int:pk>/note/", views.ticket_note, name="note"),
    path("<int:pk>/card/", views.ticket_card, name="card"),
    path("<int:pk>/attach/", views.ticket_attach, name="attach"),
    path("<int:pk>/evaluate/", views.ticket_evaluate, name="evaluate"),
    path("<int:pk>/outcome/", views.ticket_outcome, name="outcome"),
    path("<int:pk>/action-done/", views.action_done, name="action_done"),
    path("files/<int:pk>/", views.attachment_download, name="attachment"),
    path("customer/<int:customer_pk>/", views.customer_tickets, name="customer_tickets"),
    path("customer/<int:customer_pk>/link/", views.customer_link, name="customer_link"),
    path("settings/", views.sla_settings, name="settings"),
    path("calendar/", views.calendar_view, name="calendar"),
    path("surveys/", views.survey_list, name="surveys"),
    path("surveys/<int:pk>/", views.survey_detail, name="survey_detail"),
    path("s/<str:token>/", views.survey_answer, name="survey_answer"),
    path("quality/", views.quality_view, name="quality"),
    path("p/<str:token>/", views.public_form, name="public_form"),
    path("t/<str:token>/", views.public_ticket, name="public_ticket"),
]
