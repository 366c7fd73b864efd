"""Sans-IO SMTP protocol logic: reply grammar, EHLO keywords, SASL payloads."""
