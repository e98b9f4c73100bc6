"""Sends to Meta: the agent's replies and reactions, from the request to Meta's answer.

- `replies`: what an agent does (reply, retry, react): checked, stored QUEUED, queued;
- `delivery`: one attempt at a queued reply (claim, window, pace, call, record);
- `reactions`: the business's heart on a customer's message;
- `echoes`: both halves of the race between our send and Meta's echo of it;
- `errors`: Meta's refusals in an agent's words;
- `pacing`: when a send may leave (the rate limit's slots and gate, the back-off); it alone
  talks to the bucket, `ratelimit`;
- `schedule`: handing sends to the workers by task name, now, at a slot or after a back-off;
- `attachments`: what may be attached, checked and stored;
- `sweep`: stuck and lost sends; `tasks`: the Celery tasks, thin.
"""
