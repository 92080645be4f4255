"""Pages of the in-app messages (站内消息): reminders before deadlines and other notices to one user."""

app_name = "notifications"
urlpatterns = []
