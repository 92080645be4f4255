"""JSON API of the organization evaluation: results (registered in dangjian/api.py)."""

from ninja import Router

router = Router(tags=["组织考评"])
