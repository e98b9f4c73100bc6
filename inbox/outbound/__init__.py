"""Sends to Meta: the agent's replies and reactions, from the request to Meta's answer.

- `replies`: what an agent does (reply, retry, react): checked, stored QUEUED, queued;
- `delivery`: one attempt at a queued reply (claim, window, pace, call, record);
- `reactions`: the business's heart on a customer's message;
- `echoes`: both halves of the race between our send and Meta's echo of it;
- `errors`: Meta's refusals in an agent's words;
- `pacing` and `ratelimit`: the per-account rate limit (pacing alone talks to the bucket);
- `attachments`: what may be attached, checked and stored;
- `sweep`: stuck and lost sends; `tasks`: the Celery tasks, thin.
"""
