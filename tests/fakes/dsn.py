"""Delivery status notifications (RFC 3464) as a receiving mail server writes them."""

from __future__ import annotations

import email
import email.policy
from email.message import EmailMessage, Message


def build_delivery_report(
    *, to: str, recipient: str, action: str, status: str, diagnostic: str, original_id: str = ""
) -> bytes:
    """A DSN as a receiving server writes one: a multipart/report with a human part, the
    message/delivery-status blocks (per message, per recipient) and the returned headers."""
    report = EmailMessage()
    report["From"] = "MAILER-DAEMON@mx.example.net"
    report["To"] = to
    report["Subject"] = "Delivery Status Notification (Failure)"
    report.set_content("Your message could not be delivered.")
    report.make_mixed()
    mail = email.message_from_bytes(report.as_bytes(), policy=email.policy.compat32)
    mail.set_type("multipart/report")
    mail.set_param("report-type", "delivery-status")
    status_part = Message()
    status_part.set_type("message/delivery-status")
    per_message = Message()
    per_message["Reporting-MTA"] = "dns; mx.example.net"
    per_recipient = Message()
    per_recipient["Final-Recipient"] = f"rfc822; {recipient}"
    per_recipient["Action"] = action
    per_recipient["Status"] = status
    per_recipient["Diagnostic-Code"] = f"smtp; {diagnostic}"
    status_part.set_payload([per_message, per_recipient])
    mail.attach(status_part)
    if original_id:
        headers = Message()
        headers.set_type("text/rfc822-headers")
        headers.set_payload(f"Message-ID: {original_id}\r\nTo: {recipient}\r\n")
        mail.attach(headers)
    return mail.as_bytes()
