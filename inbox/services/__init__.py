"""Services: every write the inbox makes goes through a function here."""
