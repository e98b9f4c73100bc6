"""Sentences an agent understands for the ways Meta refuses a reply."""

from __future__ import annotations

from enum import StrEnum

from instagram.errors import AuthError, GraphError, RateLimitedError

RECONNECT = "This account needs to be reconnected by an admin."
WAITING_FOR_RECONNECT = (
    "Waiting for the account to be reconnected: Instagram refused its access, so an admin "
    "must reconnect it. The reply goes out as soon as that is done, if the reply window is "
    "still open."
)
# A reply held back by the account's rate limit (ours, or Meta's pause), not by a failure.
WAITING_FOR_SLOT = "Waiting for a sending slot: this account sends at a limited pace."
# A reply whose worker died mid-call: no answer from Meta was recorded.
UNKNOWN_STUCK = (
    "We could not tell whether Instagram received this. Check the conversation in Instagram "
    "before sending again."
)
UNKNOWN_NO_ANSWER = (
    "Instagram did not answer in time, so we could not tell whether it received this. Check "
    "the conversation in Instagram before sending again."
)
AUTOMATED_PAST_24H = (
    "Only replies written by a person can be sent more than 24 hours after the customer's "
    "last message. It reopens when the customer writes again."
)

HUMAN_AGENT_REFUSED = (
    "Instagram refused the human agent tag: the Meta app lacks Meta's Human Agent feature, so "
    "nothing can be sent more than 24 hours after the customer's last message. The account's "
    "human agent tag was turned off and the admins were told. An admin can request the Human "
    "Agent feature in the Meta app's App Review, then turn the tag back on in Accounts."
)
OTHER_APP_CONTROLS = (
    "Instagram refused it because another app controls this conversation (for example "
    "Instagram's own inbox or a bot). Answer from that app, or have it hand the conversation "
    "back, then retry here."
)


class Refusal(StrEnum):
    """What a permanent refusal means beyond this one message (docs/meta.md)."""

    OTHER = ""
    HUMAN_AGENT = "human_agent"  # the app lacks Meta's Human Agent feature
    THREAD_CONTROL = "thread_control"  # another app controls the conversation


_WINDOW_CLOSED = (
    "Instagram refused it: the reply window has ended (24 hours after the customer's last "
    "message, or 7 days with the human agent tag). It reopens when the customer writes again."
)
# Meta's codes for "outside the reply window" (its clock, not ours: see presenters_delivery).
WINDOW_REFUSAL_CODES = ("10/2534022", "10/2018278")
_BY_CODE_AND_SUBCODE = {
    (10, 2534022): _WINDOW_CLOSED,
    (10, 2018278): _WINDOW_CLOSED,
    (100, 2018001): "Instagram can't find this customer: they may have deleted or "
    "deactivated their account.",
}
_BY_CODE = {
    10: "Instagram refused it: the app lacks a permission for this message, or another app "
    "(such as Instagram's own inbox) controls this conversation.",
    100: "Instagram rejected the message as invalid",
    551: "This person isn't available right now: they may have blocked this account or "
    "turned off message requests.",
    1545041: "This person isn't available right now: they may have blocked this account or "
    "turned off message requests.",
    230: "Instagram requires the customer to message this account before it can reply.",
    368: "Instagram blocked this message for violating its policies; the account may be "
    "temporarily restricted from sending.",
}
_REFUSALS = {Refusal.HUMAN_AGENT: HUMAN_AGENT_REFUSED, Refusal.THREAD_CONTROL: OTHER_APP_CONTROLS}
_PERMISSIONS = (
    "The app is missing a permission to send messages for this account. An admin may need "
    "to reconnect it and grant messaging access."
)


def refusal_kind(error: GraphError, *, tagged: bool, other_app_controls: bool) -> Refusal:
    """Whether Meta refused the Human Agent tag or a thread another app controls. Meta's
    documentation names no code of its own for either (docs/meta.md): code 10 is its
    "no permission for this action", so code 10, outside the window-closed subcodes, is read
    by what we know of the conversation, and Meta's own words decide where they are plain."""
    words = (error.message or "").lower()
    if "thread" in words and ("control" in words or "owner" in words):
        return Refusal.THREAD_CONTROL
    if tagged and ("human agent" in words or "human_agent" in words):
        return Refusal.HUMAN_AGENT
    if error.code != 10 or (10, error.subcode or 0) in _BY_CODE_AND_SUBCODE:
        return Refusal.OTHER
    if other_app_controls:
        return Refusal.THREAD_CONTROL
    return Refusal.HUMAN_AGENT if tagged else Refusal.OTHER


def error_reason(error: GraphError, *, refusal: Refusal = Refusal.OTHER) -> str:
    """Why a send failed, as one or two sentences (with Meta's own words where they help)."""
    if isinstance(error, AuthError):
        return RECONNECT
    code, subcode = error.code, error.subcode
    sentence = _REFUSALS.get(refusal) or _BY_CODE_AND_SUBCODE.get((code or 0, subcode or 0))
    if sentence is None and code is not None:
        sentence = _BY_CODE.get(code)
        if sentence is None and 200 <= code <= 299:
            sentence = _PERMISSIONS
    if sentence is None:
        sentence = "Instagram refused this message"
    if error.message and not error.message.startswith("HTTP "):
        if sentence.endswith("."):
            return f"{sentence} (Instagram said: {error.message})"[:1000]
        return f"{sentence}: {error.message}"[:1000]
    return sentence if sentence.endswith(".") else f"{sentence}."


def retry_reason(error: GraphError, *, attempts: int, final: bool) -> str:
    """A transient failure: still retrying, or given up after `attempts` calls."""
    what = (
        "Instagram asked us to slow down"
        if isinstance(error, RateLimitedError)
        else "Instagram could not be reached"
    )
    detail = f" ({error.code_label})"
    if final:
        return (
            f"{what}{detail}; gave up after {attempts} attempts. Retry when Instagram is "
            "available again."
        )
    return f"{what}{detail}; retrying automatically."
