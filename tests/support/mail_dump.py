"""Prints a stored email as JSON (headers, and each MIME part decoded), for zsend's tests.

Usage: python3 mail_dump.py FILE.eml
"""
import email
import email.policy
import json
import sys

with open(sys.argv[1], "rb") as f:
    message = email.message_from_binary_file(f, policy=email.policy.default)
parts = []
for part in message.walk():
    if part.is_multipart():
        continue
    parts.append({"content_type": part.get_content_type(),
                  "charset": part.get_content_charset(),
                  "body": part.get_content()})
print(json.dumps({
    "from": str(message["From"]),
    "to": str(message["To"]),
    "subject": str(message["Subject"]),
    "date": str(message["Date"]),
    "message_id": str(message["Message-ID"]),
    "mime_version": str(message["MIME-Version"]),
    "content_type": message.get_content_type(),
    "defects": [str(d) for d in message.defects],
    "parts": parts,
}))
