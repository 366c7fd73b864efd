"""Pure functions over recorded events: no sockets here."""
