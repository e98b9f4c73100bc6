"""A small, realistic inbox: several customers, and one thread with every kind of message."""

from __future__ import annotations

from datetime import timedelta

from django.utils import timezone

from inbox.models import Conversation, Message, Reaction
from inbox.services.conversations import conversation_record_message
from tests.factories import ConversationFactory, MessageFactory, OutboundMessageFactory

PHOTO_URL = "https://cdn.example.com/photo.jpg"
# What the fake CDN answers for PHOTO_URL (see `serve_fake_cdn`): a small drawing.
PHOTO_SVG = (
    "<svg xmlns='http://www.w3.org/2000/svg' width='320' height='220'>"
    "<rect width='320' height='220' fill='#f4c6a5'/><circle cx='110' cy='120' r='55' "
    "fill='#e07a5f'/><rect x='190' y='60' width='90' height='120' rx='12' fill='#3d405b'/></svg>"
)


def serve_fake_cdn(page) -> None:
    """Answer the browser's requests to the demo's CDN links without any network."""
    page.route(
        "https://cdn.example.com/**",
        lambda route: route.fulfill(status=200, content_type="image/svg+xml", body=PHOTO_SVG),
    )


def _record(message: Message) -> Message:
    conversation_record_message(message=message)
    return message


def build_inbox(account, agent) -> Conversation:
    now = timezone.now()
    people = [
        ("Maya Lindqvist", "maya.lq", "Do you ship to Sweden? 🇸🇪", 3),
        ("Jonas Weber", "jonasw", "Thanks, received it today!", 40),
        ("Priya Raman", "priya.makes", "[Photo]", 120),
        ("Tom Becker", "tombecker", "Can I change the size of my order?", 60 * 26),
        ("Lea Fontaine", "lea.fontaine", "Perfect, merci !", 60 * 24 * 8),
    ]
    for index, (name, username, text, minutes) in enumerate(people):
        moment = now - timedelta(minutes=minutes)
        conversation = ConversationFactory(
            account=account,
            customer_name=name,
            customer_username=username,
            last_customer_message_at=moment,
            last_inbound_received_at=moment,
            last_message_at=moment,
            assignee=agent if index == 1 else None,
        )
        _record(MessageFactory(conversation=conversation, text=text, timestamp=moment))

    started = now - timedelta(days=1, hours=3)
    thread = ConversationFactory(
        account=account,
        customer_name="Sofia Martins",
        customer_username="sofia.martins",
        customer_follower_count=1284,
        customer_follows_business=True,
        business_follows_customer=False,
        profile_fetched_at=now,
        last_customer_message_at=None,
        last_inbound_received_at=None,
        last_message_at=None,
    )
    at = iter(started + timedelta(minutes=7 * i) for i in range(100))

    def inbound(**kwargs) -> Message:
        return _record(MessageFactory(conversation=thread, timestamp=next(at), **kwargs))

    def outbound(**kwargs) -> Message:
        kwargs.setdefault("author", agent)
        return _record(OutboundMessageFactory(conversation=thread, timestamp=next(at), **kwargs))

    inbound(
        kind=Message.Kind.REFERRAL,
        text="",
        details={"source": "ADS", "ad_id": "120210", "ref": "spring-sale"},
    )
    inbound(text="Hi! I saw your spring collection 😍 Is the linen dress still available?")
    inbound(
        kind=Message.Kind.ATTACHMENT,
        text="",
        attachments=[{"type": "image", "url": PHOTO_URL}],
    )
    outbound(
        text="Hi Sofia! Yes, it is: sizes S to L. Here's the page: https://example.com/linen",
        status="seen",
    )
    inbound(
        text="Love it",
        reply_to_story_url="https://www.instagram.com/stories/shop/3141592653/",
    )
    inbound(
        kind=Message.Kind.ATTACHMENT,
        text="",
        attachments=[
            {
                "type": "ig_reel",
                "url": "https://www.instagram.com/reel/C1x2y3/",
                "title": "Styling the linen dress",
            }
        ],
    )
    liked = inbound(text="What's the difference between the beige and the sand colour?")
    Reaction.objects.create(
        message=liked, actor=Reaction.Actor.BUSINESS, reaction="love", emoji="❤️"
    )
    outbound(text="Sand is a little warmer. I'll send you a photo of both.", status="sent")
    outbound(
        origin=Message.Origin.BUSINESS_APP,
        text="Here they are side by side!",
        status="sent",
        mid="echo-1",
        author=None,
    )
    inbound(
        kind=Message.Kind.POSTBACK,
        text="",
        details={"title": "Talk to a person", "payload": "HUMAN"},
    )
    inbound(text="I'll take sand in M <script>alert('x')</script>", edit_count=1)
    inbound(text="oops", is_deleted=True)
    inbound(kind=Message.Kind.UNSUPPORTED, text="")
    inbound(
        kind=Message.Kind.ATTACHMENT,
        text="",
        attachments=[{"type": "audio", "url": "https://cdn.example.com/voice.m4a"}],
    )
    inbound(
        kind=Message.Kind.ATTACHMENT,
        text="",
        attachments=[{"type": "story_mention", "url": "https://lookaside.example.com/story/1"}],
    )
    outbound(
        text="Great choice! I've reserved it for you.",
        status="failed",
        error_code="10",
        error_reason="Outside the allowed window: the customer must write first.",
    )
    outbound(
        kind=Message.Kind.STICKER, text="", attachments=[{"type": "like_heart"}], status="sent"
    )
    thread.refresh_from_db()
    return thread
