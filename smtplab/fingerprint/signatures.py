"""The registry of product signatures: every fingerprint lives in this one module.

Each product is one ``Signature``. A clue states what it matches, how strongly a
match alone suggests the product (its weight) and why. Texts marked "captured" were
seen from the real software on loopback (Postfix 3.7, Exim 4.96 and OpenSMTPD 6.8
from Debian 12, Haraka 3.3.4 from npm, aiosmtpd 1.4.6). The others come from the
product's source code or documentation, named at each signature.

Weights are judgement, not measurement: about 0.9 for a product naming itself,
0.5 to 0.8 for texts that only that product's code sends, 0.1 to 0.35 for defaults
that other software may share (a SIZE value, a common reply). Texts that an
administrator can change (greetings, most rejections) are still strong evidence when
present, because other products do not send them by accident.
"""

from __future__ import annotations

from types import MappingProxyType

from smtplab.fingerprint.model import (
    Clue,
    Signature,
    banner,
    banner_host,
    ehlo_line,
    keyword,
    keyword_missing,
    keyword_order,
    reply,
)

# A client name and address in an EHLO greeting line, such as "client.example.net [192.0.2.1]".
_ADDRESS = r"\[[0-9A-Fa-f:.]+\]"

POSTFIX = Signature(
    id="postfix",
    name="Postfix",
    clues=(
        Clue(
            banner(r"\bPostfix\b"),
            0.9,
            "names Postfix (default smtpd_banner '$myhostname ESMTP $mail_name')",
            names_product=True,
        ),
        Clue(
            keyword_order(
                ("PIPELINING", "SIZE", "VRFY", "ETRN", "STARTTLS", "AUTH", "AUTH=",
                 "ENHANCEDSTATUSCODES", "8BITMIME", "DSN", "SMTPUTF8", "CHUNKING"),
                min_shared=5,
            ),
            0.6,
            "keywords in Postfix smtpd's fixed order, CHUNKING last (captured, Postfix 3.7)",
        ),
        Clue(keyword("SIZE", r"10240000"), 0.3, "Postfix's default message_size_limit"),
        Clue(reply(r"^50[02] 5\.5\.2 Error: command not recognized$"), 0.7,
             "Postfix's reply to an unknown command (500 since 3.x, 502 before; captured)"),
        Clue(reply(r"^[45]\d\d [45]\.7\.1 <[^>]*>: Relay access denied$"), 0.6,
             "Postfix's reject_unauth_destination text (captured)"),
        Clue(reply(r"^503 5\.5\.1 Error: authentication not enabled$"), 0.6,
             "Postfix's reply to AUTH when SASL is off"),
        Clue(reply(r"^250 2\.1\.0 Ok$"), 0.35, "Postfix's MAIL FROM reply (captured)"),
        Clue(reply(r"^221 2\.0\.0 Bye$"), 0.15, "Postfix's QUIT reply, shared with OpenSMTPD and go-smtp"),
    ),
    conflicts=(
        Clue(keyword("HELP"), 0.7, "Postfix does not implement HELP, so never lists it"),
        Clue(reply(r"^250 2\.1\.0 OK$"), 0.5, "Postfix answers MAIL FROM with '2.1.0 Ok', not 'OK'"),
        Clue(reply(r"^220 Ready to start TLS$"), 0.4,
             "Postfix answers STARTTLS with the enhanced code 2.0.0"),
    ),
)

# Zimbra Collaboration's MTA is Postfix. Its default zimbraMtaSmtpdBanner is
# "$myhostname ESMTP $mail_name", which greets as Postfix. Only a greeting that an
# administrator changed to name Zimbra distinguishes the two.
ZIMBRA = Signature(
    id="zimbra",
    name="Zimbra Collaboration (Postfix MTA)",
    clues=(
        Clue(
            banner(r"\bZimbra\b"),
            0.85,
            "names Zimbra in the greeting (zimbraMtaSmtpdBanner)",
            names_product=True,
        ),
    ),
    based_on="postfix",
)

EXIM = Signature(
    id="exim",
    name="Exim",
    clues=(
        Clue(
            banner(r"\bExim\b"),
            0.9,
            "names Exim (default smtp_banner '$smtp_active_hostname ESMTP Exim $version_number $tod_full')",
            names_product=True,
        ),
        Clue(ehlo_line(rf"^\S+ Hello \S+ {_ADDRESS}$"), 0.35,
             "Exim's EHLO greeting 'Hello NAME [ADDRESS]' (captured)"),
        Clue(
            keyword_order(
                ("SIZE", "LIMITS", "8BITMIME", "PIPELINING", "PIPECONNECT", "AUTH", "CHUNKING",
                 "STARTTLS", "PRDR", "SMTPUTF8", "HELP"),
                min_shared=5,
            ),
            0.5,
            "keywords in Exim's order, HELP last (captured, Exim 4.96)",
        ),
        Clue(keyword("PIPECONNECT"), 0.5, "Exim's early-pipelining extension (Exim 4.93 and later)"),
        Clue(keyword("SIZE", r"52428800"), 0.25, "Exim's default message_size_limit of 50M"),
        Clue(reply(r"^250 Reset OK$"), 0.6, "Exim's RSET reply (captured)"),
        Clue(reply(r"^220 TLS go ahead$"), 0.6, "Exim's STARTTLS reply (captured)"),
        Clue(reply(r"^500 unrecognized command$"), 0.5, "Exim's reply to an unknown command (captured)"),
        Clue(reply(r"^221 \S+ closing connection$"), 0.4,
             "Exim's QUIT reply, without an enhanced code (captured)"),
        Clue(reply(r"^214 Commands supported:$"), 0.5, "Exim's HELP reply (captured)"),
        Clue(reply(r"^550 relay not permitted$"), 0.4,
             "a common Exim ACL message for relaying (configurable)"),
    ),
    conflicts=(
        Clue(keyword_missing("HELP"), 0.5, "Exim lists HELP last, before and inside TLS (captured)"),
    ),
)

# NOTE: Sendmail could not be run here, and its source was not read. The greeting
# format "$j Sendmail $v/$Z; $b" and the reply texts are those of sendmail 8.x as
# commonly seen in its sessions; they are unverified.
SENDMAIL = Signature(
    id="sendmail",
    name="Sendmail",
    clues=(
        Clue(
            banner(r"\bSendmail\b"),
            0.9,
            "names Sendmail (default SmtpGreetingMessage '$j Sendmail $v/$Z; $b')",
            names_product=True,
        ),
        Clue(banner(r"\b8\.\d+\.\d+/\d+\.\d+\.\d+\b"), 0.6,
             "Sendmail's '$v/$Z' version pair, such as 8.15.2/8.15.2"),
        Clue(ehlo_line(r"^\S+ Hello .*, pleased to meet you$"), 0.3,
             "'pleased to meet you' EHLO greeting of Sendmail (OpenSMTPD copies it)"),
        Clue(
            keyword_order(
                ("ENHANCEDSTATUSCODES", "PIPELINING", "EXPN", "VERB", "8BITMIME", "SIZE", "DSN",
                 "ETRN", "AUTH", "STARTTLS", "DELIVERBY", "HELP"),
                min_shared=5,
            ),
            0.5,
            "keywords in Sendmail's order, ENHANCEDSTATUSCODES first and HELP last",
        ),
        Clue(keyword("DELIVERBY"), 0.5, "Sendmail's DELIVERBY extension (RFC 2852)"),
        Clue(reply(r"^250 2\.1\.0 <[^>]*>\.\.\. Sender ok$"), 0.7, "Sendmail's MAIL FROM reply"),
        Clue(reply(r"^5\d\d 5\.7\.1 <[^>]*>\.\.\. Relaying denied"), 0.7, "Sendmail's relay rejection"),
        Clue(reply(r"^500 5\.5\.1 Command unrecognized: "), 0.7, "Sendmail's reply to an unknown command"),
        Clue(reply(r"^221 2\.0\.0 \S+ closing connection$"), 0.5, "Sendmail's QUIT reply"),
        Clue(reply(r"^250 2\.0\.0 Reset state$"), 0.2, "Sendmail's RSET reply, shared with OpenSMTPD"),
    ),
)

OPENSMTPD = Signature(
    id="opensmtpd",
    name="OpenSMTPD",
    clues=(
        Clue(
            banner(r"\bOpenSMTPD\b"),
            0.9,
            "names OpenSMTPD (its default greeting 'ESMTP OpenSMTPD'; captured)",
            names_product=True,
        ),
        Clue(ehlo_line(r"^\S+ Hello .*, pleased to meet you$"), 0.3,
             "'pleased to meet you' EHLO greeting (captured; Sendmail sends it too)"),
        Clue(
            keyword_order(
                ("8BITMIME", "ENHANCEDSTATUSCODES", "SIZE", "DSN", "STARTTLS", "AUTH", "HELP"),
                min_shared=5,
                only=True,
            ),
            0.6,
            "only OpenSMTPD's keywords, in its order from 8BITMIME to HELP (captured, OpenSMTPD 6.8)",
        ),
        Clue(keyword("SIZE", r"36700160"), 0.3, "OpenSMTPD's default maximum message size of 35M"),
        Clue(reply(r"^214 2\.0\.0 This is OpenSMTPD$"), 0.9, "OpenSMTPD's HELP reply (captured)"),
        Clue(reply(r"^500 5\.5\.1 Invalid command: Command unrecognized$"), 0.7,
             "OpenSMTPD's reply to an unknown command (captured)"),
        Clue(reply(r"^550 Invalid recipient: <"), 0.5,
             "OpenSMTPD's rejection of a recipient it does not serve (captured)"),
        Clue(reply(r"^250 2\.0\.0 Reset state$"), 0.25,
             "OpenSMTPD's RSET reply (captured; Sendmail sends it too)"),
    ),
)

# Sources: the session of Microsoft's "Use Telnet to test SMTP communication on
# Exchange servers" (Exchange 2016 and 2019) and a public capture of Exchange 2003.
# NOTE: the RSET, STARTTLS, relay and unknown-command texts are unverified here.
EXCHANGE = Signature(
    id="exchange",
    name="Microsoft Exchange / Office 365",
    clues=(
        Clue(
            banner(r"Microsoft ESMTP MAIL Service"),
            0.9,
            "Exchange's and IIS SMTP's greeting",
            names_product=True,
        ),
        Clue(banner_host(r"\.outlook\.com$"), 0.3,
             "greeting host in outlook.com, the domain of Office 365's servers"),
        Clue(ehlo_line(rf"^\S+ Hello {_ADDRESS}$"), 0.4,
             "Exchange's EHLO greeting 'Hello [ADDRESS]' without the client name"),
        Clue(keyword("X-ANONYMOUSTLS"), 0.8, "Exchange's anonymous TLS extension for its own servers"),
        Clue(keyword("XEXCH50"), 0.8, "Exchange 2003 to 2010's XEXCH50 extension"),
        Clue(keyword("X-EXPS"), 0.7, "Exchange's authentication extension for its own servers"),
        Clue(keyword("XRDST"), 0.7, "Exchange 2013 and later's XRDST extension"),
        Clue(keyword("X-LINK2STATE"), 0.7, "Exchange 2003's link state extension"),
        Clue(keyword("SIZE", r"37748736"), 0.3, "Exchange's default maximum message size of 36 MB"),
        Clue(reply(r"^250 2\.1\.0 Sender OK$"), 0.4, "Exchange's MAIL FROM reply"),
        Clue(reply(r"^250 2\.1\.0 \S+\.\.\.\.Sender OK$"), 0.6, "IIS SMTP's MAIL FROM reply (Exchange 2003)"),
        Clue(reply(r"^221 2\.0\.0 (\S+ )?Service closing transmission channel$"), 0.3,
             "Exchange's QUIT reply, RFC 5321's own example text"),
        Clue(reply(r"^250 2\.0\.0 Resetting$"), 0.6, "Exchange's RSET reply"),
        Clue(reply(r"^220 2\.0\.0 SMTP server ready$"), 0.6, "Exchange's STARTTLS reply"),
        Clue(reply(r"^550 5\.7\.54 SMTP; Unable to relay recipient in non-accepted domain"), 0.8,
             "Exchange 2013 and later's relay rejection"),
        Clue(reply(r"^500 5\.3\.3 Unrecognized command"), 0.6, "Exchange's reply to an unknown command"),
    ),
)

# Every Google reply ends with a session id and "- gsmtp".
# NOTE: these texts are Gmail's as commonly seen in sessions with it. They were not
# captured here (no outside network) and Google publishes no reference for them.
GMAIL = Signature(
    id="gmail",
    name="Gmail (Google SMTP)",
    clues=(
        Clue(
            banner(r"- gsmtp$"),
            0.9,
            "Google's greeting ends with '- gsmtp'",
            names_product=True,
        ),
        Clue(reply(r" - gsmtp$"), 0.8, "Google's replies end with '- gsmtp'"),
        Clue(ehlo_line(rf"^\S+ at your service, {_ADDRESS}$"), 0.8,
             "Google's EHLO greeting 'at your service, [ADDRESS]'"),
        Clue(banner_host(r"(^|\.)(google|gmail)\.com$"), 0.3, "greeting host in google.com or gmail.com"),
        Clue(keyword("SIZE", r"157286400|35882577"), 0.3,
             "Gmail's SIZE values (150 MiB on MX, 35882577 on submission)"),
        Clue(
            keyword_order(
                ("SIZE", "8BITMIME", "STARTTLS", "AUTH", "ENHANCEDSTATUSCODES", "PIPELINING",
                 "CHUNKING", "SMTPUTF8"),
                min_shared=6,
                only=True,
            ),
            0.4,
            "only Gmail's keywords, in its order from SIZE to SMTPUTF8",
        ),
    ),
)

HARAKA = Signature(
    id="haraka",
    name="Haraka",
    clues=(
        Clue(
            banner(r"\bHaraka\b"),
            0.9,
            "names Haraka (default greeting 'ESMTP Haraka/VERSION ready'; captured)",
            names_product=True,
        ),
        Clue(ehlo_line(r"Haraka is at your service\.$"), 0.9,
             "Haraka's EHLO greeting (captured, Haraka 3.3.4)"),
        Clue(reply(r"^221 \S+ closing connection\. Have a jolly good day\.$"), 0.8,
             "Haraka's QUIT reply (captured)"),
        Clue(reply(r"^250 sender <[^>]*> OK$"), 0.6, "Haraka's MAIL FROM reply (captured)"),
        Clue(reply(r"^550 I cannot deliver mail for <"), 0.6,
             "Haraka's rejection of a recipient it does not serve (captured)"),
        Clue(reply(r"^500 Unrecognized command$"), 0.3, "Haraka's reply to an unknown command (captured)"),
        Clue(reply(r"^220 Go ahead\.$"), 0.3, "Haraka's STARTTLS reply (captured)"),
        Clue(
            keyword_order(
                ("PIPELINING", "8BITMIME", "SMTPUTF8", "SIZE", "STARTTLS", "AUTH"),
                min_shared=5,
                only=True,
            ),
            0.3,
            "only Haraka's keywords, in its order from PIPELINING to STARTTLS (captured)",
        ),
    ),
)

# Source: hMailServer 5.x's SMTPConnection.cpp, which builds the greeting from the
# Windows computer name and sends fixed texts for most commands.
HMAILSERVER = Signature(
    id="hmailserver",
    name="hMailServer",
    clues=(
        Clue(
            banner(r"\bhMailServer\b"),
            0.9,
            "names hMailServer in the greeting",
            names_product=True,
        ),
        Clue(
            keyword_order(("SIZE", "STARTTLS", "AUTH"), min_shared=2, only=True),
            0.4,
            "only SIZE, STARTTLS and AUTH, the complete keyword list of hMailServer 5",
        ),
        Clue(keyword("AUTH", r"LOGIN( PLAIN)?"), 0.2, "hMailServer's AUTH list, LOGIN first"),
        Clue(keyword("SIZE", r"20480000"), 0.3, "hMailServer's default size of 20480 KB, sent times 1000"),
        Clue(reply(r"^221 goodbye$"), 0.6, "hMailServer's QUIT reply"),
        Clue(reply(r"^220 Go ahead$"), 0.5, "hMailServer's STARTTLS reply"),
        Clue(reply(r"^502 (5\.\d\.\d+ )?Unimplemented command\.$"), 0.6,
             "hMailServer's reply to an unknown command"),
        Clue(reply(r"^550 (5\.\d\.\d+ )?Delivery is not allowed to this address\.$"), 0.8,
             "hMailServer's relay rejection"),
        Clue(reply(r"^530 (5\.\d\.\d+ )?SMTP authentication is required\.$"), 0.6,
             "hMailServer's rejection of a recipient without login"),
        Clue(reply(r"^211 DATA HELO EHLO MAIL NOOP QUIT RCPT RSET SAML TURN VRFY$"), 0.9,
             "hMailServer's HELP reply"),
    ),
)

# Source: Stalwart's default greeting "Stalwart ESMTP at your service" and the EHLO
# writer of its smtp-proto crate, which lists capabilities from the highest flag bit
# down, so 8BITMIME comes last.
STALWART = Signature(
    id="stalwart",
    name="Stalwart Mail Server",
    clues=(
        Clue(
            banner(r"\bStalwart\b"),
            0.9,
            "names Stalwart (default greeting 'Stalwart ESMTP at your service')",
            names_product=True,
        ),
        Clue(ehlo_line(r" you had me at EHLO$"), 0.9, "Stalwart's EHLO greeting"),
        Clue(
            keyword_order(
                ("STARTTLS", "SMTPUTF8", "SIZE", "REQUIRETLS", "PIPELINING", "NO-SOLICITING",
                 "ENHANCEDSTATUSCODES", "CHUNKING", "BINARYMIME", "AUTH", "8BITMIME"),
                min_shared=5,
            ),
            0.6,
            "keywords in Stalwart's order, 8BITMIME last",
        ),
        Clue(reply(r"^221 2\.0\.0 Bye\.$"), 0.3, "Stalwart's QUIT reply, with a final period"),
    ),
)

# maddy's SMTP endpoint is the go-smtp library with maddy's defaults (SMTPUTF8 on,
# max_message_size 32M). maddy sets no greeting of its own, so other Go servers built
# on go-smtp show the same texts: the cap keeps such a guess below certainty.
MADDY = Signature(
    id="maddy",
    name="maddy (go-smtp)",
    clues=(
        Clue(
            banner(r"\bmaddy\b"),
            0.9,
            "names maddy in the greeting",
            names_product=True,
        ),
        Clue(ehlo_line(r"^Hello \S+$"), 0.6,
             "go-smtp's EHLO greeting, which names the client instead of the server"),
        Clue(banner(r"^E?SMTP Service Ready$"), 0.2,
             "go-smtp's default greeting 'DOMAIN ESMTP Service Ready'"),
        Clue(
            keyword_order(
                ("PIPELINING", "8BITMIME", "ENHANCEDSTATUSCODES", "CHUNKING", "STARTTLS", "AUTH",
                 "SMTPUTF8", "REQUIRETLS", "BINARYMIME", "SIZE"),
                min_shared=5,
            ),
            0.4,
            "keywords in go-smtp's order, SIZE last",
        ),
        Clue(keyword("SIZE", r"33554432"), 0.15,
             "maddy's default max_message_size of 32M (aiosmtpd's default too)"),
        Clue(reply(r"^250 2\.0\.0 Roger, accepting mail from <"), 0.6, "go-smtp's MAIL FROM reply"),
        Clue(reply(r"^250 2\.0\.0 I'll make sure <"), 0.6, "go-smtp's RCPT TO reply"),
        Clue(reply(r"^250 2\.0\.0 I have suc+essfully done nothing$"), 0.6, "go-smtp's NOOP reply"),
        Clue(reply(r"^250 2\.0\.0 Session reset$"), 0.4, "go-smtp's RSET reply"),
        Clue(reply(r"^500 5\.5\.2 Syntax errors?, \S+ command unrecognized$"), 0.5,
             "go-smtp's reply to an unknown command"),
    ),
    max_confidence=0.8,
)

# Source: Apache James 3's WelcomeMessageHandler and EhloCmdHandler. The EHLO
# greeting has an unmatched ")" after the client address.
JAMES = Signature(
    id="james",
    name="Apache James",
    clues=(
        Clue(
            banner(r"\bJAMES\b"),
            0.9,
            "names JAMES (default greeting 'SMTP Server (JAMES SMTP Server) ready')",
            names_product=True,
        ),
        Clue(ehlo_line(rf"^\S+ Hello \S+ {_ADDRESS}\)$"), 0.8,
             "James's EHLO greeting, which ends with an unmatched ')'"),
        Clue(
            keyword_order(("PIPELINING", "ENHANCEDSTATUSCODES", "8BITMIME"), min_shared=3, prefix=True),
            0.2,
            "James's fixed first keywords PIPELINING ENHANCEDSTATUSCODES 8BITMIME",
        ),
    ),
)

AIOSMTPD = Signature(
    id="aiosmtpd",
    name="aiosmtpd (Python)",
    clues=(
        Clue(
            banner(r"\bPython SMTP\b"),
            0.85,
            "aiosmtpd's default greeting 'Python SMTP VERSION' (captured, 1.4.6)",
            names_product=True,
        ),
        Clue(
            keyword_order(
                ("SIZE", "8BITMIME", "SMTPUTF8", "STARTTLS", "AUTH", "HELP"), min_shared=4, only=True
            ),
            0.5,
            "only aiosmtpd's keywords, in its order from SIZE to HELP (captured)",
        ),
        Clue(keyword("SIZE", r"33554432"), 0.25,
             "aiosmtpd's default data_size_limit of 32 MiB (maddy's default too)"),
        Clue(reply(r'^500 Error: command "[^"]*" not recognized$'), 0.8,
             "aiosmtpd's reply to an unknown command (captured)"),
        Clue(reply(r"^250 Supported commands: "), 0.6, "aiosmtpd's HELP reply (captured)"),
        Clue(reply(r"^220 Ready to start TLS$"), 0.35, "aiosmtpd's STARTTLS reply, without an enhanced code"),
        Clue(reply(r"^221 Bye$"), 0.3, "aiosmtpd's default QUIT reply (captured)"),
    ),
)

SIGNATURES: tuple[Signature, ...] = (
    POSTFIX,
    ZIMBRA,
    EXIM,
    SENDMAIL,
    OPENSMTPD,
    EXCHANGE,
    GMAIL,
    HARAKA,
    HMAILSERVER,
    STALWART,
    MADDY,
    JAMES,
    AIOSMTPD,
)

PRODUCTS: MappingProxyType[str, str] = MappingProxyType({s.id: s.name for s in SIGNATURES})
"""Stable product id -> display name, in registry order."""
