"""Pages of the organization evaluation: benchmark (included by assessments/urls.py under the "assessments" namespace)."""

urlpatterns = []
