"""Pages of pillar 3 (让人民生活更美好), one list per part, all under the "service" namespace."""

from dangjian.service.urls_dashboards import urlpatterns as dashboards
from dangjian.service.urls_needs import urlpatterns as needs
from dangjian.service.urls_projects import urlpatterns as projects
from dangjian.service.urls_surveys import urlpatterns as surveys
from dangjian.service.urls_teams import urlpatterns as teams
from dangjian.service.urls_tickets import urlpatterns as tickets

app_name = "service"
urlpatterns = needs + tickets + surveys + teams + projects + dashboards
