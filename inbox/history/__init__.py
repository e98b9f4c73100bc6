"""History sync: an account's recent conversations read from Meta's Conversations API and
stored where webhooks did not bring them (a new account, an outage, a lapsed subscription).

`sync.py` pages through the conversations, paced and retried; `store.py` stores each
conversation's missing messages through intake's own handlers (so a message is stored once,
whichever way it came); `state.py` keeps each account's progress, cursor and claim.
"""
