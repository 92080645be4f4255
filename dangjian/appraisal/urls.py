"""Pages of pillar 2 (做新时代答卷人), one list per part, all under the "appraisal" namespace."""

from dangjian.appraisal.urls_activities import urlpatterns as activities
from dangjian.appraisal.urls_evaluations import urlpatterns as evaluations
from dangjian.appraisal.urls_handbook import urlpatterns as handbook
from dangjian.appraisal.urls_wall import urlpatterns as wall
from dangjian.appraisal.urls_yearend import urlpatterns as yearend

app_name = "appraisal"
urlpatterns = evaluations + activities + wall + handbook + yearend
