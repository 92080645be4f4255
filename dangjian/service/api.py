"""JSON API of pillar 3: needs, tickets, surveys and responses, service activities, projects, dashboards."""

from ninja import Router

from dangjian.service.api_dashboards import router as dashboards
from dangjian.service.api_needs import router as needs
from dangjian.service.api_projects import router as projects
from dangjian.service.api_surveys import router as surveys
from dangjian.service.api_teams import router as teams
from dangjian.service.api_tickets import router as tickets

router = Router()
router.add_router("/", needs)
router.add_router("/", tickets)
router.add_router("/", surveys)
router.add_router("/", teams)
router.add_router("/", projects)
router.add_router("/", dashboards)
