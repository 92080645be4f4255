"""Pages of the in-app messages (站内消息): reminders before deadlines and other notices to one user."""

from django.urls import path

from dangjian.core import views_notifications as views

app_name = "notifications"
urlpatterns = [
    path("", views.notification_list, name="list"),
    path("<int:pk>/", views.notification_open, name="open"),
    path("<int:pk>/read/", views.notification_read, name="read"),
    path("read-all/", views.notification_read_all, name="read_all"),
]
