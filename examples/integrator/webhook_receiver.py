"""A webhook receiver: verify each message, act on each webhook-id once.

pip install standardwebhooks starlette uvicorn
GS_WEBHOOK_SECRET=whsec_… uvicorn webhook_receiver:app --port 8081
"""

import os

from standardwebhooks.webhooks import Webhook, WebhookVerificationError
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

webhook = Webhook(os.environ["GS_WEBHOOK_SECRET"])
handled: set[str] = set()  # keep these in your database: delivery is at least once


async def receive(request: Request) -> Response:
    body = await request.body()  # verify the bytes as they came, before parsing them
    try:
        message = webhook.verify(body, dict(request.headers))
    except WebhookVerificationError:
        return Response(status_code=400)
    webhook_id = request.headers["webhook-id"]
    if webhook_id not in handled:  # a retry or a replay repeats the webhook-id
        handled.add(webhook_id)
        print(message["type"], message["data"]["globalIds"], flush=True)
    return Response(status_code=204)


app = Starlette(routes=[Route("/hooks", receive, methods=["POST"])])
