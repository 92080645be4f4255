"""JSON API of pillar 2: member evaluations, activities, walls, handbooks, year-end appraisals."""

from ninja import Router

from dangjian.appraisal.api_activities import router as activities
from dangjian.appraisal.api_evaluations import router as evaluations
from dangjian.appraisal.api_handbook import router as handbook
from dangjian.appraisal.api_wall import router as wall
from dangjian.appraisal.api_yearend import router as yearend

router = Router()
router.add_router("/", evaluations)
router.add_router("/", activities)
router.add_router("/", wall)
router.add_router("/", handbook)
router.add_router("/", yearend)
