"""aiosmtpd with AUTH for zsend's mail tests: records every login it is offered.

Run as: PYTHONPATH=tests/support python3 smtp_auth_server.py PORT DIR MODE [CERT KEY]
MODE is "plain" (no TLS at all, AUTH offered in the clear: what a careless server or an
attacker stripping STARTTLS presents), "starttls" (STARTTLS offered, AUTH only after it) or
"smtps" (TLS from the first byte). Messages are stored by smtp_sink.Sink in DIR; each login
attempt becomes DIR/auth-N.json {"login", "password", "tls"} and is accepted.
"""
import asyncio
import json
import os
import ssl
import sys

from aiosmtpd.smtp import SMTP, AuthResult

from smtp_sink import Sink


def main():
    port, directory, mode = int(sys.argv[1]), sys.argv[2], sys.argv[3]
    context = None
    if mode != "plain":
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        context.load_cert_chain(sys.argv[4], sys.argv[5])
    attempts = []

    def authenticator(server, session, envelope, mechanism, auth_data):
        attempts.append(1)
        record = {"login": auth_data.login.decode(), "password": auth_data.password.decode(),
                  "tls": session.ssl is not None
                  or server.transport.get_extra_info("ssl_object") is not None}
        path = os.path.join(directory, "auth-%d.json" % len(attempts))
        with open(path + ".tmp", "w") as out:
            json.dump(record, out)
        os.rename(path + ".tmp", path)
        return AuthResult(success=True)

    def factory():
        return SMTP(Sink(directory), authenticator=authenticator, auth_require_tls=mode == "starttls",
                    tls_context=context if mode == "starttls" else None,
                    require_starttls=mode == "starttls")

    loop = asyncio.new_event_loop()
    server = loop.run_until_complete(loop.create_server(
        factory, "127.0.0.1", port, ssl=context if mode == "smtps" else None))
    try:
        loop.run_forever()
    finally:
        server.close()


if __name__ == "__main__":
    main()
