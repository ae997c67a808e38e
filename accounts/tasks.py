from __future__ import annotations

from celery import shared_task

from accounts.wechat import wechat_outbox_deliver


@shared_task(name="accounts.wechat_outbox_deliver")
def wechat_outbox_deliver_task() -> int:
    return wechat_outbox_deliver()
