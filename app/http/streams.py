"""Which answers stream, and how an event stream is framed.

A subscription streams (multipart or graphql-sse, whichever the Accept names). A query or mutation
gets one JSON answer whenever the client accepts a JSON type, even if it also names a stream type
(urql's default Accept names both); only a client that accepts nothing but `text/event-stream` (the
graphql-sse client) gets its query or mutation as one event on a stream.

Event-stream frames end with LF, as the graphql-sse reference writes them: urql splits events on
a blank LF line and reads nothing from CRLF frames (Strawberry's framing)."""

from __future__ import annotations

from strawberry.http.streaming import MultipartSubscriptionTransport, SSETransport
from strawberry.subscriptions import GRAPHQL_SSE_PROTOCOL, MULTIPART_SUBSCRIPTION_PROTOCOL

from app.http.negotiation import accepts_json


class LineFeedSSETransport(SSETransport):
    """graphql-sse's distinct connections mode, each line ended by LF."""

    def encode_event(self, event: str, data: str | None = None) -> str:
        if data and ("\r" in data or "\n" in data):
            raise ValueError("SSE event data must not contain newlines")
        return f"event: {event}\ndata: {data or ''}\n\n"

    def encode_comment(self, comment: str) -> str:
        return f": {comment}\n\n"


STREAM_TRANSPORTS = {
    MULTIPART_SUBSCRIPTION_PROTOCOL: MultipartSubscriptionTransport,
    GRAPHQL_SSE_PROTOCOL: LineFeedSSETransport,
}


def streams(transport: str, accept: str | None, is_subscription: bool) -> bool:
    """Whether an operation the request's Accept matched to a stream `transport` (its protocol name:
    "multipart-subscription" or "sse") is answered as a stream."""
    if is_subscription:
        return True
    # The multipart protocol carries subscriptions only; gql-cli sends its Accept for every operation.
    return transport == LineFeedSSETransport.protocol and not accepts_json(accept)
