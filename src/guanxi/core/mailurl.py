"""``GUANXI_EMAIL_URL`` → Django's EMAIL_* settings (read by config/settings.py at start-up, so
every app sends with Django's standard ``send_mail`` / ``EmailMessage.send``).

``smtp://host:port``, ``smtp+tls://user:pass@host:587`` (STARTTLS), ``smtp+ssl://user:pass@host:465``;
empty: the console backend (mail printed, nothing sent)."""

from __future__ import annotations

from urllib.parse import unquote, urlsplit

CONSOLE = "django.core.mail.backends.console.EmailBackend"
SMTP = "django.core.mail.backends.smtp.EmailBackend"
PORTS = {"smtp": 25, "smtp+tls": 587, "smtp+ssl": 465}


def email_settings(url: str) -> dict:
    """The EMAIL_* settings of ``url``; ValueError for a scheme that is not SMTP."""
    if not url:
        return {"EMAIL_BACKEND": CONSOLE}
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    if scheme not in PORTS:
        raise ValueError(f"GUANXI_EMAIL_URL: unknown scheme {parts.scheme!r} (smtp, smtp+tls, smtp+ssl)")
    return {
        "EMAIL_BACKEND": SMTP,
        "EMAIL_HOST": parts.hostname or "localhost",
        "EMAIL_PORT": parts.port or PORTS[scheme],
        "EMAIL_HOST_USER": unquote(parts.username or ""),
        "EMAIL_HOST_PASSWORD": unquote(parts.password or ""),
        "EMAIL_USE_TLS": scheme == "smtp+tls",
        "EMAIL_USE_SSL": scheme == "smtp+ssl",
        "EMAIL_TIMEOUT": 30,
    }


def connection_kwargs(url: str) -> dict:
    """The same, as keyword arguments of ``django.core.mail.get_connection``."""
    conf = email_settings(url)
    kwargs = {k.removeprefix("EMAIL_").lower(): v for k, v in conf.items() if k != "EMAIL_BACKEND"}
    kwargs = {{"host_user": "username", "host_password": "password"}.get(k, k): v for k, v in kwargs.items()}
    return {"backend": conf["EMAIL_BACKEND"], **kwargs}
