"""URLs of the tickets part (included by service/urls.py under the "service" namespace): the list, a staff-origin
ticket, the detail page and the POST targets of its forms (moves, step fields, reassignment, actions, evidence)."""

from django.urls import path

from dangjian.service import views_tickets as v

urlpatterns = [
    path("tickets/", v.ticket_list, name="ticket_list"),
    path("tickets/new/", v.ticket_create, name="ticket_create"),
    path("tickets/<int:pk>/", v.ticket_detail, name="ticket_detail"),
    path("tickets/<int:pk>/move/", v.ticket_move, name="ticket_move"),
    path("tickets/<int:pk>/plan/", v.ticket_plan, name="ticket_plan"),
    path("tickets/<int:pk>/check/", v.ticket_check, name="ticket_check"),
    path("tickets/<int:pk>/act/", v.ticket_act, name="ticket_act"),
    path("tickets/<int:pk>/reassign/", v.ticket_reassign, name="ticket_reassign"),
    path("tickets/<int:pk>/actions/", v.ticket_action_add, name="ticket_action_add"),
    path("tickets/actions/<int:pk>/evidence/", v.ticket_evidence_add, name="ticket_evidence_add"),
    path("tickets/evidence/<int:pk>/", v.ticket_evidence_download, name="ticket_evidence_download"),
    path("tickets/evidence/<int:pk>/withdraw/", v.ticket_evidence_withdraw, name="ticket_evidence_withdraw"),
]
