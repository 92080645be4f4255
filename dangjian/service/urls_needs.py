"""URLs of the needs part (included by service/urls.py under the "service" namespace).

Inside the platform (login): the needs list, entry, detail and triage, the Excel import, the service areas and
the public form's channels with their posters. Public (no login, by the channel's key): ``p/need/<key>/…``.
"""

from django.urls import path

from dangjian.service import views_needs as v

urlpatterns = [
    path("needs/", v.need_list, name="need_list"),
    path("needs/new/", v.need_create, name="need_create"),
    path("needs/<int:pk>/", v.need_detail, name="need_detail"),
    path("needs/<int:pk>/accept/", v.need_accept, name="need_accept"),
    path("needs/<int:pk>/decline/", v.need_decline, name="need_decline"),
    path("needs/import/", v.need_import, name="need_import"),
    path("needs/import/template.xlsx", v.need_import_template, name="need_import_template"),
    path("needs/channels/", v.need_channel_list, name="need_channel_list"),
    path("needs/channels/enable/", v.need_channel_enable, name="need_channel_enable"),
    path("needs/channels/<int:pk>/", v.need_channel_detail, name="need_channel_detail"),
    path("needs/channels/<int:pk>/action/", v.need_channel_action, name="need_channel_action"),
    path("needs/channels/<int:pk>/poster/", v.need_channel_poster, name="need_channel_poster"),
    path("areas/", v.area_list, name="area_list"),
    path("areas/new/", v.area_create, name="area_create"),
    path("areas/<int:pk>/edit/", v.area_edit, name="area_edit"),
    path("areas/<int:pk>/toggle/", v.area_toggle, name="area_toggle"),
    path("p/need/<str:key>/", v.public_need, name="public_need"),
    path("p/need/<str:key>/thanks/<str:token>/", v.public_need_thanks, name="public_need_thanks"),
]
