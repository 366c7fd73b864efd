"""The network shell: sockets, TLS and DNS. Everything above it works on recorded events."""
