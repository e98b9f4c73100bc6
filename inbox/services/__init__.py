"""What the intake, the sends and the pages share: a conversation's summary, the reply window,
customer profiles, a message's edits (the newest text wins, earlier ones are kept), the agents'
work on a conversation (assign, close, read state), fresh links for customers' media
(which expire), and the live polls' change stamps (live.py)."""
