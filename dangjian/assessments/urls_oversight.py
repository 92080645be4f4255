"""Pages of the organization evaluation: oversight (included by assessments/urls.py under the "assessments" namespace)."""

urlpatterns = []
