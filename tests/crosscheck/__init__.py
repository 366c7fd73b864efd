"""Cross-checks of smtplab's domain verdicts against other tools, run in an isolated network namespace."""
