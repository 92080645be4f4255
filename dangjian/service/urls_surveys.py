"""URLs of the surveys part (included by service/urls.py under the "service" namespace).

Inside the platform (login): the list, the builder, links and invitation codes, results and the index table.
Public (no login, by the link's key): ``p/survey/<key>/`` and its thank-you page.
"""

from django.urls import path

from dangjian.service import views_surveys as v

urlpatterns = [
    path("surveys/", v.survey_list, name="survey_list"),
    path("surveys/new/", v.survey_create, name="survey_create"),
    path("surveys/templates/", v.survey_from_template, name="survey_from_template"),
    path("surveys/indices/", v.survey_indices, name="survey_indices"),
    path("surveys/<int:pk>/", v.survey_detail, name="survey_detail"),
    path("surveys/<int:pk>/edit/", v.survey_edit, name="survey_edit"),
    path("surveys/<int:pk>/delete/", v.survey_delete, name="survey_delete"),
    path("surveys/<int:pk>/state/", v.survey_state, name="survey_state"),
    path("surveys/<int:pk>/questions/new/", v.survey_question_add, name="survey_question_add"),
    path("surveys/questions/<int:pk>/edit/", v.survey_question_edit, name="survey_question_edit"),
    path("surveys/questions/<int:pk>/delete/", v.survey_question_delete, name="survey_question_delete"),
    path("surveys/questions/<int:pk>/move/", v.survey_question_move, name="survey_question_move"),
    path("surveys/<int:pk>/links/", v.survey_links, name="survey_links"),
    path("surveys/<int:pk>/links/print/", v.survey_link_sheet, name="survey_link_sheet"),
    path("surveys/links/<int:pk>/toggle/", v.survey_link_toggle, name="survey_link_toggle"),
    path("surveys/links/<int:pk>/invitations/", v.survey_invitations, name="survey_invitations"),
    path("surveys/<int:pk>/results/", v.survey_results, name="survey_results"),
    path("surveys/<int:pk>/recompute/", v.survey_recompute, name="survey_recompute"),
    path("p/survey/<str:key>/", v.survey_public, name="survey_public"),
    path("p/survey/<str:key>/thanks/", v.survey_public_thanks, name="survey_public_thanks"),
]
