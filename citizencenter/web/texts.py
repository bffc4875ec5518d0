"""Every string the pages show, by key, per language: Swedish now, English can follow.

Templates call `t("key")`; Python code calls `texts.t("key")`. A missing key raises, so a
typo fails a test instead of showing a raw key. `{name}` placeholders take keyword values.
"""

from citizencenter.routing.models import Presence

LANGUAGE = "sv"

SV: dict[str, str] = {
    "lang": "sv",
    "app.name": "Medborgarcenter",
    "skip_link": "Hoppa till huvudinnehållet",
    "nav.label": "Huvudmeny",
    "nav.home": "Mina ärenden",
    "header.signed_in_as": "Inloggad som {name}",
    "header.status": "Status",
    "header.status_save": "Byt status",
    "header.status_saved": "Status: {presence}",
    "header.search": "Sök",
    "header.search_button": "Sök",
    "header.search_hint": "Referens, namn, telefon, e-post eller ämne",
    "header.waiting_label": "Väntande ärenden",
    "header.logout": "Logga ut",
    "presence.available": "Tillgänglig",
    "presence.busy": "Upptagen",
    "presence.away": "Borta",
    "presence.offline": "Utloggad",
    "login.title": "Logga in",
    "login.email": "E-post",
    "login.password": "Lösenord",
    "login.submit": "Logga in",
    "login.failed": "Fel e-post eller lösenord.",
    "login.locked": "För många misslyckade inloggningar. Vänta en stund och försök igen.",
    "login.unavailable": "Inloggningen fungerar inte just nu. Försök igen om en stund.",
    "login.signed_out": "Du är utloggad.",
    "login.timed_out": "Du har loggats ut efter en tids inaktivitet. Logga in igen.",
    "home.title": "Mina ärenden",
    "home.empty": "Inga ärenden att visa.",
    "search.title": "Sök",
    "search.placeholder": "Sökningen är inte klar än.",
    "error.title": "Något gick fel",
    "error.400": "Begäran kunde inte behandlas.",
    "error.401": "Du behöver logga in.",
    "error.403": "Du har inte behörighet att göra det här.",
    "error.404": "Sidan eller ärendet finns inte, eller så har du inte tillgång till det.",
    "error.409": "Någon annan har ändrat detta under tiden. Ladda om sidan och försök igen.",
    "error.412": "Någon annan har ändrat detta under tiden. Ladda om sidan och försök igen.",
    "error.422": "Uppgifterna är inte giltiga.",
    "error.429": "För många försök. Vänta en stund och försök igen.",
    "error.500": "Ett oväntat fel inträffade.",
    "error.503": "Tjänsten är inte tillgänglig just nu. Försök igen om en stund.",
    "error.csrf": "Formuläret hade gått ut eller kom inte från den här sidan. "
                  "Ladda om sidan och försök igen.",
    "error.back": "Till startsidan",
}

CATALOGUES: dict[str, dict[str, str]] = {"sv": SV}


def t(key: str, **values) -> str:
    """The text for `key` in the interface language, with `values` filled in."""
    text = CATALOGUES[LANGUAGE][key]
    return text.format(**values) if values else text


def presence_label(presence: Presence | str) -> str:
    return t(f"presence.{Presence(presence).value}")


def error_text(status: int) -> str:
    return CATALOGUES[LANGUAGE].get(f"error.{status}") or t("error.500")
