"""URLs of the wall pages (included by appraisal/urls.py under the "appraisal" namespace).

Inside the platform (login): the walls the user may see, one branch's wall, its big screen, poster and photos,
the public link's management and the feedback inbox. Public (no login, by the wall's key): ``wall/p/<key>/…``.
"""

from django.urls import path

from dangjian.appraisal import views_wall as v

urlpatterns = [
    path("wall/", v.wall_index, name="wall_index"),
    path("wall/<int:org_id>/", v.wall_detail, name="wall_detail"),
    path("wall/<int:org_id>/screen/", v.wall_screen, name="wall_screen"),
    path("wall/<int:org_id>/poster.pdf", v.wall_poster, name="wall_poster"),
    path("wall/<int:org_id>/photo/<int:member_id>/", v.wall_photo, name="wall_photo"),
    path("wall/<int:org_id>/manage/", v.wall_manage, name="wall_manage"),
    path("wall/<int:org_id>/link/", v.wall_link, name="wall_link"),
    path("wall/<int:org_id>/qr.png", v.wall_qr, name="wall_qr"),
    path("wall/feedback/", v.wall_feedback_list, name="wall_feedback_list"),
    path("wall/feedback/<int:pk>/", v.wall_feedback_detail, name="wall_feedback_detail"),
    path("wall/feedback/<int:pk>/read/", v.wall_feedback_read, name="wall_feedback_read"),
    path("wall/p/<str:key>/", v.wall_public, name="wall_public"),
    path("wall/p/<str:key>/screen/", v.wall_public_screen, name="wall_public_screen"),
    path("wall/p/<str:key>/photo/<int:member_id>/", v.wall_public_photo, name="wall_public_photo"),
    path("wall/p/<str:key>/feedback/", v.wall_public_feedback, name="wall_public_feedback"),
    path("wall/p/<str:key>/thanks/", v.wall_public_thanks, name="wall_public_thanks"),
]
