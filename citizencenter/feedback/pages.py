"""The citizen's feedback page: small, Swedish, server-rendered, no external assets."""

from markupsafe import Markup, escape

QUESTION_TEXT = {
    "courtesy": "Hur blev du bemött?",
    "ease": "Hur lätt var det att komma i kontakt med oss?",
    "clarity": "Hur tydligt var svaret du fick?",
}
SCALE = {1: "Mycket dåligt", 2: "Dåligt", 3: "Varken bra eller dåligt", 4: "Bra",
         5: "Mycket bra"}
STYLE = """body{font-family:system-ui,sans-serif;max-width:36rem;margin:2rem auto;padding:0 1rem;
color:#1b1b1b}fieldset{border:1px solid #bbb;border-radius:.4rem;margin:0 0 1rem}
label{display:block;padding:.2rem 0}.error{color:#a00;font-weight:bold}
button{font-size:1rem;padding:.5rem 1.2rem}"""
HEADERS = {
    "Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'; "
                               "form-action 'self'; frame-ancestors 'none'",
    "Cache-Control": "no-store",
    "Referrer-Policy": "no-referrer",
    "X-Content-Type-Options": "nosniff",
}


def _page(title: str, body: Markup) -> str:
    return (Markup('<!doctype html><html lang="sv"><head><meta charset="utf-8">'
                   '<meta name="viewport" content="width=device-width, initial-scale=1">'
                   "<title>{title}</title><style>{style}</style></head><body>"
                   "<h1>{title}</h1>{body}</body></html>")
            .format(title=title, style=Markup(STYLE), body=body))


def form_page(error: tuple[str, str] | None = None, answers: dict | None = None) -> str:
    answers = answers or {}
    parts = [Markup("<p>Tack för att du tar dig tid. Svara på en skala från 1 (mycket dåligt) "
                    "till 5 (mycket bra).</p>")]
    if error:
        parts.append(Markup('<p class="error" role="alert">{q}: {m}</p>').format(
            q=QUESTION_TEXT.get(error[0], error[0]), m=error[1]))
    parts.append(Markup('<form method="post">'))
    for name, question in QUESTION_TEXT.items():
        options = Markup("").join(
            Markup('<label><input type="radio" name="{n}" value="{v}" required{c}> '
                   "{v} – {t}</label>").format(
                n=name, v=value, t=text,
                c=Markup(" checked") if str(answers.get(name)) == str(value) else "")
            for value, text in SCALE.items())
        parts.append(Markup("<fieldset><legend>{q}</legend>{o}</fieldset>").format(
            q=question, o=options))
    parts.append(Markup('<button type="submit">Skicka</button></form>'))
    return _page("Hur var din kontakt med Medborgarcenter?", Markup("").join(parts))


def thanks_page() -> str:
    return _page("Tack för ditt svar!", Markup("<p>Dina svar hjälper oss att bli bättre.</p>"))


def refused_page(reason: str) -> str:
    return _page("Länken kan inte användas", Markup("<p>{r}</p><p>Har du frågor kan du "
                                                   "kontakta Medborgarcenter.</p>")
                 .format(r=escape(reason)))
