"""Presentation, read from a ProbeResult: the terminal summary and the narrative report.

The report comes as Markdown, as one self-contained HTML file, or as PDF.
"""
