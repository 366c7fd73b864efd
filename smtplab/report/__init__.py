"""Presentation: terminal summary and the Markdown report, read from a ProbeResult."""
