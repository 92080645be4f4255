"""JSON API of the in-app messages (站内消息)."""

from ninja import Router

router = Router(tags=["站内消息"])
