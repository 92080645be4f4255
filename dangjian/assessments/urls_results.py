"""Pages of the organization evaluation: results (included by assessments/urls.py under the "assessments" namespace)."""

urlpatterns = []
