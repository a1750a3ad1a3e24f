"""An aiosmtpd handler that stores every message it receives, for zsend's mail tests.

Run as: PYTHONPATH=tests/support python3 -m aiosmtpd -n -l 127.0.0.1:PORT -c smtp_sink.Sink DIR
Each message becomes DIR/N.eml (the DATA as received) and DIR/N.json (envelope sender and
recipients). The .json file is written last, so its presence means the message is complete.
"""
import json
import os


class Sink:
    def __init__(self, directory):
        self.directory = directory
        self.count = 0

    @classmethod
    def from_cli(cls, parser, *args):
        if len(args) != 1:
            parser.error("smtp_sink.Sink needs one argument: the directory to store messages in")
        return cls(args[0])

    async def handle_DATA(self, server, session, envelope):
        self.count += 1
        base = os.path.join(self.directory, str(self.count))
        content = envelope.original_content or envelope.content
        if isinstance(content, str):
            content = content.encode("utf-8")
        with open(base + ".eml", "wb") as out:
            out.write(content)
        with open(base + ".json.tmp", "w") as out:
            json.dump({"mail_from": envelope.mail_from, "rcpt_tos": envelope.rcpt_tos}, out)
        os.rename(base + ".json.tmp", base + ".json")
        return "250 Message accepted for delivery"
